"""Read-only inspection of one run: details, pending work, children, history windows."""

from __future__ import annotations

from continuum.engine.events import Event
from continuum.errors import RunNotFound
from continuum.journal.inspection import (
    CallSite,
    ChildRef,
    OpenTask,
    PendingSignal,
    PendingTimer,
    PendingUpdate,
    RunDetail,
)
from continuum.journal.postgres import messages
from continuum.journal.postgres.statements import Cursor, event, fetch_all, fetch_one, sql


def run_detail(cur: Cursor, run_id: str, limit: int) -> RunDetail:
    """The run's operator view; each list holds at most ``limit`` entries."""
    row = fetch_one(cur, sql("inspect", "run_detail"), (run_id,))
    if row is None:
        raise RunNotFound(run_id)
    return RunDetail(
        id=row["id"],
        input=row["input"],
        trace_context=row["trace_context"],
        lease_owner=row["lease_owner"],
        lease_expires_at=row["lease_expires_at"],
        next_wakeup_at=row["next_wakeup_at"],
        cancel_requested_at=row["cancel_requested_at"],
        last_seq=row["last_seq"],
        updated_at=row["updated_at"],
        signals=[
            PendingSignal(r["id"], r["name"], r["payload"], r["inserted_at"])
            for r in fetch_all(cur, sql("inspect", "pending_signals"), (run_id, limit))
        ],
        timers=[
            PendingTimer(r["seq"], r["fire_at"])
            for r in fetch_all(cur, sql("inspect", "pending_timers"), (run_id, limit))
        ],
        tasks=[
            OpenTask(
                id=r["id"],
                command_seq=r["command_seq"],
                kind=r["kind"],
                activity=r["activity"],
                state=r["state"],
                attempt=r["attempt"],
                max_attempts=r["max_attempts"],
                available_at=r["available_at"],
                lease_owner=r["lease_owner"],
                lease_expires_at=r["lease_expires_at"],
                last_error=r["error"],
            )
            for r in fetch_all(cur, sql("inspect", "open_tasks"), (run_id, limit))
        ],
        children=[
            ChildRef(r["id"], r["workflow"], r["state"], r["started_at"])
            for r in fetch_all(cur, sql("inspect", "children"), (run_id, limit))
        ],
        events=messages.events(cur, row["correlation_id"]),
        updates=[
            PendingUpdate(r["id"], r["name"], r["payload"], r["inserted_at"], r["accepted"])
            for r in messages.pending_updates(cur, run_id)[:limit]
        ],
    )


def history_window(
    cur: Cursor, run_id: str, after_seq: int | None, before_seq: int | None, limit: int
) -> list[Event]:
    """Up to ``limit`` events in seq order: after ``after_seq``, before ``before_seq``,
    or (neither given) the newest ones."""
    if after_seq is not None:
        rows = fetch_all(cur, sql("inspect", "history_after"), (run_id, after_seq, limit))
    elif before_seq is not None:
        rows = fetch_all(cur, sql("inspect", "history_before"), (run_id, before_seq, limit))
        rows.reverse()
    else:
        rows = fetch_all(cur, sql("inspect", "history_tail"), (run_id, limit))
        rows.reverse()
    return [event(r) for r in rows]


def reached_sites(cur: Cursor, run_id: str) -> set[CallSite]:
    """Every call site the run's journal holds a command for."""
    rows = fetch_all(cur, sql("inspect", "reached_sites"), (run_id,))
    return {(r["kind"], r["qualname"], r["lineno"]) for r in rows}
