"""``continuum archive-continued-chains``: drop expired links of ``continue_as_new`` chains.

A chain that continues forever (a cron-style workflow) leaves one completed run per
cycle. A *non-tail* member — ``completed`` with ``continued_to_run_id`` set — carries
no live state: its mailbox and children moved to the successor when it continued. Once
it finished more than ``older_than`` ago it is deleted with its events, signals, timers,
activity tasks, snapshots and update requests (seed v0.4). The live tip
(``continued_to_run_id IS NULL``) is never selected, whatever its age. Dry run unless
``execute=True``.

The chain keeps its identity: every member shares the root's ``correlation_id``; the
successor's ``continued_from_run_id`` may then name a run that no longer exists.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from continuum.ops.batches import delete_in_batches
from continuum.ops.queries import query
from continuum.progress import Progress, silent

BATCH = 500
"""Runs deleted per transaction, so a large backlog never holds long locks."""

_TABLES = ("events", "signals", "timers", "tasks", "snapshots", "updates", "idempotency_claims")


class ChainMember(BaseModel):
    """One archivable run (dry-run listing)."""

    id: str
    workflow: str
    correlation_id: str
    continued_to_run_id: str
    finished_at: datetime
    events: int


class ArchiveReport(BaseModel):
    """What archival found (and, executed, deleted); ``to_json()`` is its JSON output."""

    executed: bool
    older_than_s: float
    candidates: int
    sample: list[ChainMember] = Field(default_factory=list)
    deleted_run_ids: list[str] = Field(default_factory=list)
    deleted: dict[str, int] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the report."""
        return self.model_dump(mode="json")


def archive_continued_chains(
    conn: psycopg.Connection[Any],
    *,
    older_than: timedelta,
    execute: bool = False,
    sample: int = 50,
    batch: int = BATCH,
    progress: Progress = silent,
) -> ArchiveReport:
    """Find (and with ``execute`` delete) expired non-tail members of continued chains.

    Each batch is its own transaction (a savepoint if the caller already opened one;
    the caller commits a non-autocommit connection).
    """
    if older_than < timedelta(0):
        raise ValueError("older_than must not be negative")
    params: dict[str, Any] = {"older_than": older_than, "limit": sample}
    with conn.cursor(row_factory=dict_row) as cur:
        count = cur.execute(query("count_archivable_chain_runs"), params).fetchone()
        listed = cur.execute(query("archivable_chain_runs"), params).fetchall()
    assert count is not None
    report = ArchiveReport(
        executed=execute,
        older_than_s=older_than.total_seconds(),
        candidates=count["count"],
        sample=[ChainMember.model_validate(row) for row in listed],
    )
    if not execute:
        return report
    report.deleted_run_ids, totals = delete_in_batches(
        conn,
        "lock_archivable_chain_batch",
        {"older_than": older_than, "batch": batch},
        tables=_TABLES,
        label="archiving chain runs",
        expected=report.candidates,
        progress=progress,
    )
    report.deleted = totals
    return report
