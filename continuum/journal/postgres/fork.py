"""Fork: a new run whose journal is a copy of another run's, up to a seq (SPEC §16).

Replay consumes the copy, then the run continues live. Commands the copy leaves open
get what a live run would have for them: an activity scheduled but not resolved gets
a fresh pending task (it runs again), a timer or a signal deadline gets its timer row.
A child started but not finished inside the copy belongs to the original run, so the
fork refuses such a cut (:class:`ForkError`, naming the seqs that would work).
"""

from __future__ import annotations

from typing import Any

from continuum.definitions.registry import REGISTRY
from continuum.durations import to_ms
from continuum.engine import events as ev
from continuum.errors import ContinuumError, ForkError, PayloadError, RunAlreadyExists
from continuum.journal.postgres import queues, runs
from continuum.journal.postgres.statements import Cursor, dumps, fetch_one, sql

_TASK_KINDS = {ev.ACTIVITY_SCHEDULED: "activity", ev.COMPENSATION_SCHEDULED: "compensation"}


def fork(cur: Cursor, source: str, at_seq: int | None, new_id: str, version_hash: str) -> str:
    """Create the fork ``new_id`` of ``source``; returns its id."""
    history = [e for e in runs.history(cur, source) if e.type not in ev.TERMINAL_EVENTS]
    last = history[-1].seq if history else 0
    if at_seq is None:
        at_seq = last
    elif at_seq > last:
        raise ForkError(
            f"cannot fork run {source!r} at seq {at_seq}: its journal has {last} non-terminal "
            f"event(s); pick a seq from 1 to {last} (see `continuum runs show {source}`)"
        )
    copied = [e for e in history if e.seq <= at_seq]
    resolved = {e.ref_seq for e in copied if e.ref_seq is not None}
    open_commands = [e for e in copied if e.command is not None and e.seq not in resolved]
    for e in open_commands:
        if e.type == ev.CHILD_STARTED:
            raise ForkError(
                f"cannot fork run {source!r} at seq {at_seq}: the child started at seq {e.seq} "
                "has not finished by then, and a fork cannot share the original's child; "
                f"fork before seq {e.seq} or after the child's result is journaled"
            )
    row = fetch_one(
        cur,
        sql("fork", "insert_fork"),
        {
            "id": new_id,
            "source": source,
            "version_hash": version_hash,
            "last_seq": copied[-1].seq if copied else 0,
            "at_seq": at_seq,
        },
    )
    if row is None:
        raise RunAlreadyExists(new_id, runs.get_run(cur, new_id).state.value)
    terminal = list(ev.TERMINAL_EVENTS)
    params = {"id": new_id, "source": source, "at_seq": at_seq, "terminal": terminal}
    cur.execute(sql("fork", "copy_events"), params)
    for e in open_commands:
        _reopen(cur, new_id, e)
    if row["queue"] is not None:
        queues.ensure_queue(cur, row["queue"])
        queues.admit(cur, row["queue"])
    else:
        cur.execute(sql("activations", "notify"), ("continuum_run_wake", new_id))
    return new_id


def _backoff(activity: str) -> dict[str, Any]:
    """The activity's retry backoff when this process has it (the journal does not keep it)."""
    try:
        return REGISTRY.activity(activity).backoff.to_json()
    except ContinuumError:
        return {}


def _heartbeat_timeout_ms(activity: str) -> int | None:
    """The activity's heartbeat timeout when this process has it (not journaled either)."""
    try:
        return to_ms(REGISTRY.activity(activity).heartbeat_timeout)
    except ContinuumError:
        return None


def _reopen(cur: Cursor, run_id: str, e: ev.Event) -> None:
    kind = _TASK_KINDS.get(e.type)
    data = e.data
    if kind is not None:
        try:
            args = dumps(data["input"], what=f"arguments of the activity at seq {e.seq}")
            params = {
                "run_id": run_id,
                "seq": e.seq,
                "kind": kind,
                "activity": data["activity"],
                "args": args,
                "key": data.get("idempotency_key"),
                # None (unlimited) stays None; a history without the key had one attempt.
                "max_attempts": data.get("max_attempts", 1),
                "timeout_ms": data.get("timeout_ms"),
                "backoff": dumps(_backoff(data["activity"])),
                "heartbeat_timeout_ms": _heartbeat_timeout_ms(data["activity"]),
            }
        except (KeyError, PayloadError) as exc:
            raise ForkError(
                f"cannot fork at seq {e.seq}: the scheduled activity's event lacks {exc}"
            ) from None
        cur.execute(sql("fork", "insert_pending_task"), params)
        return
    fire_at = data.get("fire_at") or data.get("timeout_at")
    if e.type in (ev.TIMER_STARTED, ev.SIGNAL_AWAITED) and fire_at:
        cur.execute(sql("fork", "insert_timer"), (run_id, e.seq, fire_at))
        cur.execute(sql("activations", "notify"), ("continuum_timer_armed", run_id))
