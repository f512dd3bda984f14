"""Delete runs in batches, one transaction each, and add up what went with them.

``runs purge`` and ``archive-continued-chains`` differ only in which runs they select.
Each batch is one transaction: the caller's named statement locks a batch of run ids
(``FOR UPDATE SKIP LOCKED``), and ``delete_run_batch`` deletes them with every row that
belongs to them alone, returning one count column per table; repeated until a batch is
empty, so a large backlog never holds long locks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.rows import dict_row

from continuum.ops.queries import query
from continuum.progress import Progress


def delete_in_batches(
    conn: psycopg.Connection[Any],
    select: str,
    params: Mapping[str, Any],
    *,
    tables: tuple[str, ...],
    label: str,
    expected: int,
    progress: Progress,
) -> tuple[list[str], dict[str, int]]:
    """Lock a batch with the named ``select`` statement and delete it, until a batch is
    empty.

    ``tables`` names the count columns to add up; published run events are deleted only
    when it includes ``run_events``. Returns the deleted run ids (in deletion order) and
    the totals per table, with ``runs`` first. ``expected`` only sizes the progress bar.
    """
    run_ids: list[str] = []
    totals = dict.fromkeys(("runs", *tables), 0)
    progress(label, 0, expected)
    while True:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            locked = [r["id"] for r in cur.execute(query(select), params).fetchall()]
            if not locked:
                return run_ids, totals
            row = cur.execute(
                query("delete_run_batch"), {"ids": locked, "run_events": "run_events" in tables}
            ).fetchone()
        assert row is not None
        ids = list(row["run_ids"])
        run_ids.extend(ids)
        totals["runs"] += len(ids)
        progress(label, totals["runs"], max(expected, totals["runs"]))
        for table in tables:
            totals[table] += row[table]
