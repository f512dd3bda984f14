"""``continuum runs purge``: delete finished runs whose retention has passed.

A run started with ``retention=`` (``client.start(..., retention=continuum.days(30))``,
or the workflow's / worker's default) gets ``retention_until`` when it finishes. Once
that moment has passed the run may be deleted with its events, signals, timers, activity
tasks (and the idempotency-key claims their attempts held) and snapshots. Runs without
retention are kept forever. Dry run unless ``execute=True``; deletes in batches, one
transaction each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from continuum.ops.batches import delete_in_batches
from continuum.ops.queries import query
from continuum.progress import Progress, silent

BATCH = 500
"""Runs deleted per transaction, so a large backlog never holds long locks."""

_TABLES = (
    "events",
    "signals",
    "timers",
    "tasks",
    "snapshots",
    "updates",
    "run_events",
    "idempotency_claims",
)


class ExpiredRun(BaseModel):
    """One purgeable run (dry-run listing)."""

    id: str
    workflow: str
    state: str
    finished_at: datetime
    retention_until: datetime
    events: int


class PurgeReport(BaseModel):
    """What a purge found (and, executed, deleted); ``to_json()`` is its JSON output."""

    executed: bool
    candidates: int
    sample: list[ExpiredRun] = Field(default_factory=list)
    deleted_run_ids: list[str] = Field(default_factory=list)
    deleted: dict[str, int] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the report."""
        return self.model_dump(mode="json")


def purge_expired_runs(
    conn: psycopg.Connection[Any],
    *,
    execute: bool = False,
    sample: int = 50,
    batch: int = BATCH,
    progress: Progress = silent,
) -> PurgeReport:
    """Find (and with ``execute`` delete) finished runs past their ``retention_until``."""
    with conn.cursor(row_factory=dict_row) as cur:
        count = cur.execute(query("count_purgeable_runs")).fetchone()
        listed = cur.execute(query("purgeable_runs"), {"limit": sample}).fetchall()
    assert count is not None
    report = PurgeReport(
        executed=execute,
        candidates=count["count"],
        sample=[ExpiredRun.model_validate(row) for row in listed],
    )
    if not execute:
        return report
    report.deleted_run_ids, totals = delete_in_batches(
        conn,
        "lock_purgeable_batch",
        {"batch": batch},
        tables=_TABLES,
        label="purging runs",
        expected=report.candidates,
        progress=progress,
    )
    report.deleted = totals
    return report
