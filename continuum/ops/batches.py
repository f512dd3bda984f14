"""Delete runs in batches, one transaction each, and add up what went with them.

``runs purge`` and ``archive-continued-chains`` differ only in which runs they select;
both run one named statement repeatedly until it deletes nothing. Each execution locks a
batch of runs (``FOR UPDATE SKIP LOCKED``) and returns ``run_ids`` plus one count column
per table it deleted from, so a large backlog never holds long locks.
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
    name: str,
    params: Mapping[str, Any],
    *,
    tables: tuple[str, ...],
    label: str,
    expected: int,
    progress: Progress,
) -> tuple[list[str], dict[str, int]]:
    """Run the named batch statement until it deletes no run.

    Returns the deleted run ids (in deletion order) and the totals per table, with
    ``runs`` first. ``expected`` only sizes the progress bar.
    """
    run_ids: list[str] = []
    totals = dict.fromkeys(("runs", *tables), 0)
    progress(label, 0, expected)
    while True:
        with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(query(name), params).fetchone()
        assert row is not None
        ids = list(row["run_ids"])
        if not ids:
            return run_ids, totals
        run_ids.extend(ids)
        totals["runs"] += len(ids)
        progress(label, totals["runs"], max(expected, totals["runs"]))
        for table in tables:
            totals[table] += row[table]
