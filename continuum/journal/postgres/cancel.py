"""Cancellation: the chain tip and its live descendants, one generation at a time."""

from __future__ import annotations

from continuum import telemetry
from continuum.errors import RunNotFound, RunTerminal
from continuum.journal.postgres.locks import ParentMoved, follow_chain_locked, tip_parent
from continuum.journal.postgres.runs import get_run, wake_run
from continuum.journal.postgres.statements import Cursor, fetch_all, fetch_one, sql
from continuum.models import TERMINAL_STATES, RunInfo


def cancel(
    cur: Cursor, run_id: str, *, max_levels: int, instance: str
) -> tuple[RunInfo, list[str]]:
    """Cancel the tip of ``run_id``'s chain and its descendants; idempotent when cancelled.

    Returns the tip and the ids this call cancelled (the tip first, then descendants
    generation by generation; empty when the tip was already cancelled).

    Raises :class:`RunNotFound`, :class:`RunTerminal` (completed or failed), or
    :class:`ParentMoved` (the caller retries).
    """
    found, parent = tip_parent(cur, run_id)
    if not found:
        raise RunNotFound(run_id)
    # Parent first, then the chain hop by hop: the lock order every writer uses.
    if parent is not None:
        fetch_one(cur, sql("activations", "lock_parent"), (parent,))
    tip = follow_chain_locked(cur, run_id)
    if tip is None:
        raise RunNotFound(run_id)
    if tip["parent_run_id"] != parent:
        raise ParentMoved(run_id)
    if tip["state"] == "cancelled":
        return get_run(cur, tip["id"]), []
    if tip["state"] in TERMINAL_STATES:
        raise RunTerminal(tip["id"], tip["state"], "cancel")
    cancelled = cancel_tree(cur, tip["id"], parent, max_levels=max_levels, instance=instance)
    return get_run(cur, tip["id"]), cancelled


def cancel_tree(
    cur: Cursor, root: str, parent: str | None, *, max_levels: int, instance: str
) -> list[str]:
    """Cancel ``root`` (locked by the caller) and its live descendants, then wake ``parent``;
    returns the ids cancelled, generation by generation.

    Each generation is locked ``FOR UPDATE`` (in id order) while its parents are held,
    so a child created by a concurrent commit under a parent's lock is either seen by
    the next generation's query or fenced (the parent's lease is already cleared).
    """
    level = [root]
    cancelled = _cancel_level(cur, level)
    for _ in range(max_levels):
        level = [r["id"] for r in fetch_all(cur, sql("cancel", "lock_live_children"), (level,))]
        if not level:
            break
        cancelled += _cancel_level(cur, level)
    else:
        still = fetch_one(cur, sql("cancel", "has_live_children"), (level,))
        if still is not None and still["present"]:
            telemetry.emit(
                "run.cancel_cascade_truncated",
                {"run_id": root, "levels": max_levels, "frontier": level[:20]},
                instance=instance,
            )
    if parent is not None:
        wake_run(cur, parent)
    return cancelled


def _cancel_level(cur: Cursor, ids: list[str]) -> list[str]:
    return [str(r["id"]) for r in fetch_all(cur, sql("cancel", "cancel_runs"), {"ids": ids})]
