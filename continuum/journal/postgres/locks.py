"""Row-lock order shared by every writer: parent before child, run before task.

A commit that finishes a run wakes its parent, and a cancel cascade locks a parent and
then its children. If the commit locked the child first and then the parent, the two
could deadlock (AB-BA, seed v0.6.1); so anything that writes to a run *and* its parent
locks the parent first, reading the parent id without a lock and re-checking it once
both rows are held.
"""

from __future__ import annotations

from continuum.journal.postgres.statements import Cursor, Row, fetch_one, sql


class ParentMoved(Exception):
    """The run's parent changed (a concurrent ``continue_as_new``) between read and lock.

    Internal: the journal rolls the transaction back and retries it.
    """


def lock_run(cur: Cursor, run_id: str) -> Row | None:
    """Lock one run row (``FOR UPDATE``); ``None`` if it does not exist."""
    return fetch_one(cur, sql("runs", "lock_run"), (run_id,))


def lock_with_parent(cur: Cursor, run_id: str) -> Row | None:
    """Lock the run's parent (if any), then the run; ``None`` if the run does not exist.

    Raises :class:`ParentMoved` if the parent changed in between.
    """
    found = fetch_one(cur, sql("activations", "parent_of"), (run_id,))
    if found is None:
        return None
    parent = found["parent_run_id"]
    if parent is not None:
        fetch_one(cur, sql("activations", "lock_parent"), (parent,))
    row = lock_run(cur, run_id)
    if row is not None and row["parent_run_id"] != parent:
        raise ParentMoved(run_id)
    return row


def follow_chain_locked(cur: Cursor, run_id: str) -> Row | None:
    """Follow ``continue_as_new`` links from ``run_id`` to the tip, locking every hop.

    Holding each hop's lock means a continuation committing concurrently either
    finished before we read the hop (we follow its link) or waits for our transaction
    (and then moves what we wrote to its successor). ``None`` if a hop is missing.
    """
    row = fetch_one(cur, sql("signals", "lock_hop"), (run_id,))
    while row is not None and row["continued_to_run_id"] is not None:
        row = fetch_one(cur, sql("signals", "lock_hop"), (row["continued_to_run_id"],))
    return row


def tip_parent(cur: Cursor, run_id: str) -> tuple[bool, str | None]:
    """``(found, parent id of the chain's tip)``, read without locks."""
    row = fetch_one(cur, sql("cancel", "chain_hop"), (run_id,))
    while row is not None and row["continued_to_run_id"] is not None:
        row = fetch_one(cur, sql("cancel", "chain_hop"), (row["continued_to_run_id"],))
    if row is None:
        return False, None
    parent: str | None = row["parent_run_id"]
    return True, parent
