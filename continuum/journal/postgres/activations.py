"""Loading an activation's input and committing its result, atomically, under the lease."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from continuum.engine import snapshot
from continuum.engine.events import Event
from continuum.engine.types import (
    ActivationInput,
    ActivationResult,
    ChildOutcome,
    MailboxSignal,
    MailboxUpdate,
    TaskOutcome,
)
from continuum.journal.fencing import Fenced
from continuum.journal.postgres import cancel as cancel_ops
from continuum.journal.postgres import messages
from continuum.journal.postgres.locks import lock_run, lock_with_parent
from continuum.journal.postgres.runs import wake_run
from continuum.journal.postgres.statements import (
    Cursor,
    dumps,
    dumps_or_none,
    fetch_all,
    fetch_one,
    sql,
)
from continuum.journal.postgres.tasks import task_lease
from continuum.journal.records import Lease, TaskLease

_ACTIVE = ("running", "suspended")
_TERMINAL_OUTCOMES = frozenset({"completed", "failed", "continued", "cancelled"})


Known = Callable[[str], tuple[int, Any] | None]
"""``run id -> (last seq, generation)`` of a run the worker keeps parked in memory (a
sticky run, :mod:`continuum.runtime.sticky`), or ``None``: load its whole history."""


def load_activations(
    cur: Cursor,
    leases: Sequence[Lease],
    *,
    max_child_depth: int,
    instance: str,
    known: Known | None = None,
) -> dict[str, ActivationInput]:
    """Activation inputs of the leased runs, by run id, in one statement (two when some
    runs are ``known``: those get only the events after their parked seq, and
    ``history_after`` says so).

    A run whose lease is no longer current (or that is no longer active) is missing
    from the result: the caller treats it as fenced.
    """
    if not leases:
        return {}
    parked = {x.run_id: k for x in leases if known is not None and (k := known(x.run_id))}
    cold = [x for x in leases if x.run_id not in parked]
    warm = [x for x in leases if x.run_id in parked]
    out: dict[str, ActivationInput] = {}
    if cold:
        params = {
            "ids": [x.run_id for x in cold],
            "tokens": [x.token for x in cold],
            "formats": list(snapshot.SUPPORTED_FORMATS),
        }
        for run in fetch_all(cur, sql("activations", "load_activations"), params):
            events, snapshot_seq, skipped = _history(cur, run)
            out[run["id"]] = input_of(run, events, max_child_depth, instance)
            out[run["id"]].snapshot_seq = snapshot_seq
            out[run["id"]].snapshot_skipped = skipped
    if warm:
        params = {
            "ids": [x.run_id for x in warm],
            "tokens": [x.token for x in warm],
            "after": [parked[x.run_id][0] for x in warm],
            "owner": None,
        }
        for run in fetch_all(cur, sql("activations", "load_activation_deltas"), params):
            inp = input_of(run, events_of(run["events"]), max_child_depth, instance)
            inp.history_after = max(int(run["after"]), 1)
            out[run["id"]] = inp
    return out


def input_of(
    run: dict[str, Any], events: list[Event], max_child_depth: int, instance: str
) -> ActivationInput:
    signals = [MailboxSignal(int(i), name, payload) for i, name, payload in run["signals"] or ()]
    tasks = {
        seq: TaskOutcome(seq, ok, res, err, attempt)
        for seq, ok, res, err, attempt in run["tasks"] or ()
    }
    children = {
        cid: ChildOutcome(cid, state, res, err) for cid, state, res, err in run["children"] or ()
    }
    updates = [MailboxUpdate(int(i), name, payload) for i, name, payload in run["updates"] or ()]
    return ActivationInput(
        run_id=run["id"],
        workflow=run["workflow"],
        version_hash=run["version_hash"],
        input=run["input"],
        events=events,
        now=run["now"],
        last_seq=run["last_seq"],
        signals=signals,
        finished_tasks=tasks,
        finished_children=children,
        cancel_requested=run["cancel_requested"],
        cancel_deadline=run["cancel_grace_until"],
        updates=updates,
        namespace=run["namespace"],
        parent_run_id=run["parent_run_id"],
        correlation_id=run["correlation_id"],
        attempt=run["attempt"],
        depth=run["depth"],
        max_child_depth=max_child_depth,
        instance=instance,
        trace_context=run["trace_context"],
        generation=run["generation"],
    )


def events_of(rows: Any) -> list[Event]:
    return [
        Event(seq, kind, command=command, ref_seq=ref_seq, data=data)
        for seq, kind, command, ref_seq, data in rows or ()
    ]


def _history(cur: Cursor, run: dict[str, Any]) -> tuple[list[Event], int, str | None]:
    """``(events, snapshot seq or 0, why a snapshot was skipped)`` of a loaded run.

    The newest readable snapshot plus the events after it; the full history when the
    snapshot does not decode (never an error: a bad snapshot only costs a full read).
    """
    skipped = None
    if run["unknown_format"] is not None:
        skipped = f"unknown format_version {run['unknown_format']}"
    if run["snapshot_seq"] is None:
        return events_of(run["events"]), 0, skipped
    try:
        prefix = snapshot.decode(run["snapshot"], run["snapshot_format"], run["snapshot_seq"])
    except snapshot.SnapshotUnusable as exc:
        full = fetch_one(cur, sql("activations", "full_history"), (run["id"],))
        return events_of(full["events"] if full else None), 0, exc.reason
    return prefix + events_of(run["events"]), run["snapshot_seq"], skipped


def load_activation(
    cur: Cursor, lease: Lease, *, max_child_depth: int, instance: str, known: Known | None = None
) -> ActivationInput:
    """Events, mailbox, finished tasks and children, and the database clock for one run."""
    found = load_activations(
        cur, [lease], max_child_depth=max_child_depth, instance=instance, known=known
    )
    inp = found.get(lease.run_id)
    if inp is None:
        raise Fenced(f"run {lease.run_id}: lease {lease.token} is no longer current")
    return inp


@dataclass(slots=True)
class PreparedCommit:
    """An :class:`ActivationResult` turned into SQL parameters before any SQL runs.

    Serializing first means a value that is not JSON fails the commit before it
    touches the database, and the transaction holds the run lock for less time.
    """

    result: ActivationResult
    events: str | None = None
    tasks: str | None = None
    timers: str | None = None
    consumed: str | None = None
    children: str | None = None
    idempotent: str | None = None
    outcome_result: str | None = None
    outcome_error: str | None = None
    continue_input: str | None = None
    fired: list[int] = field(default_factory=list)
    journaled: list[int] = field(default_factory=list)
    messages: tuple[str | None, str | None, str | None] = (None, None, None)


def prepare(result: ActivationResult) -> PreparedCommit:
    """Serialize everything ``result`` will write."""
    out = PreparedCommit(result, fired=list(result.fired_timers))
    out.journaled = list(result.journaled_tasks)
    out.messages = messages.prepare_messages(result)
    if result.new_events:
        out.events = dumps(
            [
                {
                    "seq": e.seq,
                    "type": e.type,
                    "command": e.command,
                    "ref_seq": e.ref_seq,
                    "data": e.data,
                }
                for e in result.new_events
            ],
            what="journal events",
        )
    if result.new_tasks:
        out.tasks = dumps(
            [
                {
                    "command_seq": t.command_seq,
                    "kind": t.kind,
                    "activity": t.activity,
                    "args": t.args,
                    "idempotency_key": t.idempotency_key,
                    "max_attempts": t.max_attempts,
                    "timeout_ms": t.timeout_ms,
                    "backoff": t.backoff,
                    "heartbeat_timeout_ms": t.heartbeat_timeout_ms,
                }
                for t in result.new_tasks
            ],
            what="activity arguments",
        )
    if result.new_timers:
        out.timers = dumps(
            [{"seq": t.seq, "fire_at": t.fire_at.isoformat()} for t in result.new_timers]
        )
    if result.consumed_signals:
        out.consumed = dumps([{"id": i, "seq": s} for i, s in result.consumed_signals])
    if result.new_children:
        out.children = dumps(
            [
                {
                    "id": c.run_id,
                    "workflow": c.workflow,
                    "version_hash": c.version_hash,
                    "input": c.input,
                    "command": c.command,
                }
                for c in result.new_children
            ],
            what="child input",
        )
    if result.idempotent_results:
        out.idempotent = dumps(
            [{"activity": a, "key": k, "result": v} for a, k, v in result.idempotent_results],
            what="activity result",
        )
    outcome = result.outcome
    out.outcome_result = dumps_or_none(outcome.result, what="workflow result")
    out.outcome_error = dumps_or_none(outcome.error, what="workflow error")
    if outcome.kind == "continued":
        out.continue_input = dumps(outcome.continue_input, what="continue_as_new input")
    return out


def run_document(
    lease: Lease,
    prepared: PreparedCommit,
    last_seq: int,
    *,
    lease_tasks: int = 0,
    continued_to: str | None = None,
) -> str:
    """One run's part of the ``batch`` parameter of ``commit_runs`` (sql/batch.sql),
    spliced from the pieces :func:`prepare` already serialized."""
    kind = prepared.result.outcome.kind
    state = "completed" if kind == "continued" else kind
    return (
        f'{{"run_id":{json.dumps(lease.run_id)},"token":{lease.token},'
        f'"last_seq":{last_seq},"state":"{state}",'
        f'"result":{prepared.outcome_result or "null"},'
        f'"error":{prepared.outcome_error or "null"},'
        f'"continued_to":{json.dumps(continued_to)},'
        f'"events":{prepared.events or "[]"},"journaled":{json.dumps(prepared.journaled)},'
        f'"tasks":{prepared.tasks or "[]"},"lease_n":{lease_tasks}}}'
    )


def lease_check(
    row: dict[str, Any] | None, lease: Lease, result: ActivationResult
) -> Fenced | None:
    """Whether a commit may write under ``lease``, given the run's locked ``row``.

    :class:`Fenced` when the run is gone, its lease token changed, it is no longer
    active, or its journal moved past what the activation replayed; ``None`` if clear.
    """
    if row is None or row["lease_token"] != lease.token or row["state"] not in _ACTIVE:
        return Fenced(f"run {lease.run_id}: lease {lease.token} is no longer current")
    events = result.new_events
    if events and events[0].seq != row["last_seq"] + 1:
        return Fenced(
            f"run {lease.run_id}: the journal moved under the activation (expected seq "
            f"{row['last_seq'] + 1}, got {events[0].seq})"
        )
    return None


def commit_activation(
    cur: Cursor,
    lease: Lease,
    prepared: PreparedCommit,
    *,
    successor_version: str | None,
    max_levels: int,
    instance: str,
    task_owner: str | None = None,
    lease_tasks: int = 0,
    task_ttl: timedelta = timedelta(seconds=30),
    notify_timers: bool = True,
) -> list[TaskLease]:
    """Apply one activation in the caller's transaction; :class:`Fenced` if the lease is lost.

    Up to ``lease_tasks`` of the new activity tasks are inserted already leased to
    ``task_owner`` and returned (the caller runs them); the rest are left pending.
    Raises :class:`~continuum.journal.postgres.locks.ParentMoved` when the caller must
    retry the transaction.
    """
    result = prepared.result
    kind = result.outcome.kind
    run_id = lease.run_id
    # Outcomes that write to the parent take its lock first (see locks.py).
    row = lock_with_parent(cur, run_id) if kind in _TERMINAL_OUTCOMES else lock_run(cur, run_id)
    fenced = lease_check(row, lease, result)
    if fenced is not None:
        raise fenced
    assert row is not None
    last_seq: int = row["last_seq"]
    if result.new_events:
        last_seq = result.new_events[-1].seq
    leased: list[TaskLease] = []
    if prepared.tasks is not None:
        lease_n = lease_tasks if task_owner is not None else 0
        doc = run_document(lease, prepared, last_seq, lease_tasks=lease_n)
        params = {"batch": f"[{doc}]", "owner": task_owner, "ttl": task_ttl}
        rows = fetch_all(cur, sql("batch", "insert_tasks"), params)
        leased = [task_lease(r) for r in rows if r["state"] == "leased"]
        if len(leased) < len(rows):
            cur.execute(sql("activations", "notify"), ("continuum_task_ready", run_id))
    if prepared.timers is not None:
        cur.execute(sql("activations", "insert_timers"), (run_id, prepared.timers))
        if notify_timers:
            cur.execute(sql("activations", "notify"), ("continuum_timer_armed", run_id))
    if prepared.fired:
        cur.execute(sql("activations", "fire_timers"), (run_id, prepared.fired))
    if prepared.consumed is not None:
        taken = fetch_all(cur, sql("activations", "consume_signals"), (prepared.consumed, run_id))
        if len(taken) != len(result.consumed_signals):
            raise Fenced(f"run {run_id}: a signal was already consumed or moved")
    if messages.has_messages(result):
        messages.commit_messages(cur, run_id, result, prepared.messages)
    if prepared.idempotent is not None:
        cur.execute(sql("activations", "insert_idempotent_results"), (prepared.idempotent,))
    if prepared.children is not None:
        cur.execute(sql("activations", "insert_children"), (prepared.children, run_id))
    _finish(cur, lease, prepared, last_seq, row, successor_version, max_levels, instance)
    return leased


def _finish(
    cur: Cursor,
    lease: Lease,
    prepared: PreparedCommit,
    last_seq: int,
    row: dict[str, Any],
    successor_version: str | None,
    max_levels: int,
    instance: str,
) -> None:
    outcome = prepared.result.outcome
    run_id = lease.run_id
    if outcome.kind == "suspended":
        done = _commit_run(cur, lease, prepared, last_seq)
        if done["due"]:  # a wake arrived while we held the lease: tell the dispatchers again
            cur.execute(sql("activations", "notify"), ("continuum_run_wake", run_id))
        return
    if outcome.kind == "cancelled":
        if prepared.events is not None:
            cur.execute(sql("activations", "insert_events"), (run_id, prepared.events))
        if prepared.journaled:
            cur.execute(sql("activations", "mark_tasks_journaled"), (run_id, prepared.journaled))
        cur.execute(sql("cancel", "set_last_seq"), (last_seq, run_id))
        cancel_ops.cancel_tree(
            cur, run_id, row["parent_run_id"], max_levels=max_levels, instance=instance
        )
        return
    successor: str | None = None
    if outcome.kind == "continued":
        successor = f"{row['correlation_id']}~{uuid.uuid4().hex[:12]}"
        cur.execute(
            sql("activations", "insert_successor"),
            {
                "id": successor,
                "run_id": run_id,
                "input": prepared.continue_input,
                "version_hash": successor_version,
            },
        )
        cur.execute(sql("activations", "move_signals"), (successor, run_id))
        messages.continue_messages(cur, successor, run_id)
        cur.execute(sql("activations", "move_children"), (successor, run_id))
    done = _commit_run(cur, lease, prepared, last_seq, continued_to=successor)
    if successor is None and done["parent_run_id"] is not None:
        wake_run(cur, done["parent_run_id"])


def _commit_run(
    cur: Cursor,
    lease: Lease,
    prepared: PreparedCommit,
    last_seq: int,
    *,
    continued_to: str | None = None,
) -> dict[str, Any]:
    """Events, journaled tasks and the run's transition: ``commit_runs`` for one run."""
    doc = run_document(lease, prepared, last_seq, continued_to=continued_to)
    params = {
        "batch": f"[{doc}]",
        "ids": [lease.run_id],
        "seqs": prepared.journaled,
        "any_ended": prepared.result.outcome.kind != "suspended",
    }
    row = fetch_one(cur, sql("batch", "commit_runs"), params)
    if row is None:
        raise Fenced(f"run {lease.run_id}: lease {lease.token} is no longer current")
    return row
