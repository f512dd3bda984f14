"""Events, updates and cooperative cancellation on PostgreSQL (SPEC §13).

Writes that an activation makes (event values, accepted updates, answers) run in the
activation's own commit transaction, under the run lock the commit holds. The client
side (send an update, read its status, read events, request a cooperative cancel)
follows ``continue_as_new`` chains like signals do.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from continuum.engine.types import ActivationResult
from continuum.errors import RunNotFound, RunTerminal
from continuum.journal.fencing import Fenced
from continuum.journal.postgres.locks import ParentMoved, follow_chain_locked, tip_parent
from continuum.journal.postgres.statements import Cursor, dumps, fetch_all, fetch_one, sql
from continuum.journal.records import UpdateStatus
from continuum.models import TERMINAL_STATES

EVENT_SET = "continuum_event_set"
UPDATE_ANSWERED = "continuum_update_answered"


def has_messages(result: ActivationResult) -> bool:
    """Whether the activation writes events or update rows (the group commit skips it)."""
    return bool(result.event_writes or result.accepted_updates or result.update_answers)


def prepare_messages(result: ActivationResult) -> tuple[str | None, str | None, str | None]:
    """``(events, accepted, answers)`` as JSON parameters (``None`` when empty)."""
    events = None
    if result.event_writes:
        last: dict[str, tuple[Any, int]] = {}
        for key, value, seq in result.event_writes:
            last[key] = (value, seq)  # last write of each key wins
        events = dumps(
            [{"key": k, "value": v, "seq": s} for k, (v, s) in last.items()],
            what="event values",
        )
    accepted = None
    if result.accepted_updates:
        accepted = dumps([{"id": i, "seq": s} for i, s in result.accepted_updates])
    answers = None
    if result.update_answers:
        answers = dumps(
            [{"id": i, "status": st, "answer": a} for i, st, a in result.update_answers],
            what="update reply",
        )
    return events, accepted, answers


def commit_messages(
    cur: Cursor,
    run_id: str,
    result: ActivationResult,
    prepared: tuple[str | None, str | None, str | None],
) -> None:
    """Apply an activation's events, acceptances and answers (caller holds the run lock)."""
    events, accepted, answers = prepared
    if accepted is not None:
        taken = fetch_all(cur, sql("messages", "accept_updates"), (accepted, run_id))
        if len(taken) != len(result.accepted_updates):
            raise Fenced(f"run {run_id}: an update was already accepted or moved")
    if events is not None:
        rows = fetch_all(cur, sql("messages", "upsert_events"), (events, run_id))
        if rows:
            cur.execute(sql("activations", "notify"), (EVENT_SET, rows[0]["correlation_id"]))
    if answers is not None:
        cur.execute(sql("messages", "answer_updates"), (answers,))


def continue_messages(cur: Cursor, successor: str, run_id: str) -> None:
    """Move unaccepted updates and a pending cooperative cancel to the successor."""
    cur.execute(sql("messages", "move_updates"), (successor, run_id))
    cur.execute(sql("messages", "successor_grace_timer"), (successor, run_id))


def send_update(cur: Cursor, run_id: str, name: str, payload_json: str) -> tuple[int, str]:
    """Insert an update request into the chain tip's mailbox and wake it;
    ``(update id, tip id)``."""
    tip = follow_chain_locked(cur, run_id)
    if tip is None:
        raise RunNotFound(run_id)
    if tip["state"] in TERMINAL_STATES:
        raise RunTerminal(tip["id"], tip["state"], "update")
    row = fetch_one(cur, sql("messages", "insert_update"), (tip["id"], name, payload_json))
    fetch_one(cur, sql("signals", "wake_locked_run"), (tip["id"],))
    assert row is not None
    return int(row["id"]), str(tip["id"])


def update_status(cur: Cursor, update_id: int) -> UpdateStatus:
    """Where the update stands; :class:`RunNotFound` if the request is gone."""
    row = fetch_one(cur, sql("messages", "update_status"), (update_id,))
    if row is None:
        raise RunNotFound(f"update {update_id}")
    return UpdateStatus(
        int(row["id"]),
        row["run_id"],
        row["run_state"],
        bool(row["accepted"]),
        row["status"],
        row["answer"],
    )


def withdraw_update(cur: Cursor, update_id: int) -> bool:
    """Delete an update nobody accepted; ``False`` if it was accepted (or is gone)."""
    return fetch_one(cur, sql("messages", "withdraw_update"), (update_id,)) is not None


def pending_updates(cur: Cursor, run_id: str) -> list[dict[str, Any]]:
    """Unanswered update requests of one run, oldest first."""
    return fetch_all(cur, sql("messages", "pending_updates"), (run_id,))


def chain_of(cur: Cursor, run_id: str) -> str:
    """The correlation id (chain identity) of ``run_id``; :class:`RunNotFound`."""
    row = fetch_one(cur, sql("messages", "chain_of"), (run_id,))
    if row is None:
        raise RunNotFound(run_id)
    chain: str = row["correlation_id"]
    return chain


def get_event(cur: Cursor, chain: str, key: str) -> tuple[bool, Any]:
    """``(True, value)`` when the chain published ``key``."""
    row = fetch_one(cur, sql("messages", "get_event"), (chain, key))
    return (False, None) if row is None else (True, row["value"])


def events(cur: Cursor, chain: str) -> dict[str, Any]:
    """Every published event of the chain, by key."""
    return {r["key"]: r["value"] for r in fetch_all(cur, sql("messages", "events"), (chain,))}


def request_cancel(
    cur: Cursor, run_id: str, grace: timedelta, *, max_levels: int
) -> tuple[str, bool]:
    """Cooperative cancel of the chain tip and its live descendants.

    Returns ``(tip id, queued)``: a tip still ``queued`` never started, so it has
    nothing to clean up and the caller cancels it at once instead (nothing is written
    here). Raises :class:`RunNotFound`, :class:`RunTerminal` (completed or failed) or
    :class:`ParentMoved`. A cancelled tip is left as it is. Queued descendants are left
    queued: they are cancelled with their parent.
    """
    found, parent = tip_parent(cur, run_id)
    if not found:
        raise RunNotFound(run_id)
    if parent is not None:
        fetch_one(cur, sql("activations", "lock_parent"), (parent,))
    tip = follow_chain_locked(cur, run_id)
    if tip is None:
        raise RunNotFound(run_id)
    if tip["parent_run_id"] != parent:
        raise ParentMoved(run_id)
    tip_id: str = tip["id"]
    if tip["state"] in ("cancelled", "queued"):
        return tip_id, tip["state"] == "queued"
    if tip["state"] in TERMINAL_STATES:
        raise RunTerminal(tip_id, tip["state"], "cancel")
    level = [tip_id]
    for _ in range(max_levels):
        fetch_all(cur, sql("messages", "request_cancel"), {"ids": level, "grace": grace})
        level = [r["id"] for r in fetch_all(cur, sql("cancel", "lock_live_children"), (level,))]
        if not level:
            break
    return tip_id, False
