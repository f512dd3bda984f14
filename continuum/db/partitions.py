"""Monthly partitions of ``continuum_events``.

``continuum_events`` is ``PARTITION BY RANGE (inserted_at)`` with one partition per UTC
month, named ``continuum_events_YYYY_MM``. There is no default partition: an event whose
month has no partition fails to insert, so ``migrate`` creates the current month and the
next three, and workers (or cron) should call :func:`ensure_partitions` regularly — it
is idempotent and costs one catalog query when nothing is missing.

Retention is opt-in per run (``continuum_runs.retention_until``, NULL by default).
:func:`drop_old` reports a partition as droppable only when its whole range is in the
past and every event in it belongs to a run whose ``retention_until`` has passed (so an
empty past partition qualifies); it is a no-op when no run has retention set, and drops
only with ``execute=True``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

from continuum.db.sqlfiles import query, scalar
from continuum.errors import ConfigurationError, ContinuumError
from continuum.progress import Progress, silent

PARTITION_PREFIX = "continuum_events_"
PARTITIONS_LOCK_KEY = 0x436F6E74_00000002
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Partition:
    """One partition of ``continuum_events``: its name, UTC range and row count."""

    name: str
    schema: str
    range_start: datetime | None
    range_end: datetime | None
    rows: int
    rows_estimated: bool = False

    @property
    def month(self) -> str | None:
        """``"YYYY-MM"`` when the partition spans exactly one UTC month, else ``None``."""
        if self.range_start is None or self.range_end is None:
            return None
        start = self.range_start.astimezone(UTC)
        if (start.day, start.hour, start.minute, start.second) != (1, 0, 0, 0):
            return None
        if self.range_end.astimezone(UTC) != _month_start(_add_months(start.date(), 1)):
            return None
        return f"{start.year:04d}-{start.month:02d}"

    def to_json(self) -> dict[str, Any]:
        """JSON-ready fields, for ``--format json``."""
        return {
            "name": self.name,
            "schema": self.schema,
            "month": self.month,
            "range_start": self.range_start.isoformat() if self.range_start else None,
            "range_end": self.range_end.isoformat() if self.range_end else None,
            "rows": self.rows,
            "rows_estimated": self.rows_estimated,
        }


@dataclass
class DropOldReport:
    """What :func:`drop_old` found and did."""

    retention_configured: bool
    eligible: list[Partition] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    executed: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-ready fields, for ``--format json``."""
        return {
            "retention_configured": self.retention_configured,
            "executed": self.executed,
            "eligible": [p.to_json() for p in self.eligible],
            "dropped": self.dropped,
        }


def parse_month(text: str | date) -> date:
    """``"2026-06"`` → ``date(2026, 6, 1)``; raises :class:`ConfigurationError` otherwise."""
    if isinstance(text, date):
        return text.replace(day=1)
    match = _MONTH.match(text.strip())
    if match and 1 <= int(match.group(2)) <= 12 and int(match.group(1)) >= 1:
        return date(int(match.group(1)), int(match.group(2)), 1)
    raise ConfigurationError(f"invalid month {text!r}: expected YYYY-MM, for example 2026-06")


def partition_name(month: str | date) -> str:
    """``continuum_events_2026_06`` for June 2026."""
    first = parse_month(month)
    return f"{PARTITION_PREFIX}{first.year:04d}_{first.month:02d}"


def partition_ddl(month: str | date) -> sql.Composed:
    """The ``CREATE TABLE IF NOT EXISTS ... PARTITION OF`` statement for one UTC month."""
    first = parse_month(month)
    return sql.SQL(query("create_partition")).format(
        partition=sql.Identifier(partition_name(first)),
        range_start=sql.Literal(_month_start(first)),
        range_end=sql.Literal(_month_start(_add_months(first, 1))),
    )


def current_month(conn: psycopg.Connection[Any]) -> date:
    """The first day of the current UTC month, on the database clock."""
    value = scalar(conn, query("current_month"))
    assert isinstance(value, date)
    return value


def months_to_ensure(conn: psycopg.Connection[Any], months_ahead: int = 3) -> list[date]:
    """The current month (database clock) and ``months_ahead`` after it."""
    if months_ahead < 0:
        raise ConfigurationError(f"months_ahead must be >= 0, not {months_ahead}")
    first = current_month(conn)
    return [_add_months(first, i) for i in range(months_ahead + 1)]


def missing_months(conn: psycopg.Connection[Any], months: list[date]) -> list[date]:
    """Those of ``months`` whose first instant no existing partition covers."""
    existing = list_partitions(conn, count_rows=False)
    return [m for m in months if not any(_covers(p, _month_start(m)) for p in existing)]


def create_partition(conn: psycopg.Connection[Any], month: str | date) -> bool:
    """Create the partition for ``month`` (``"YYYY-MM"``); ``False`` if it already existed.

    Idempotent, and safe to run concurrently with other callers. Commits on a connection
    with no transaction open; inside a transaction it joins it.
    """
    first = parse_month(month)
    with conn.transaction():
        conn.execute(query("advisory_xact_lock"), (PARTITIONS_LOCK_KEY,))
        if not missing_months(conn, [first]):
            return False
        conn.execute(partition_ddl(first))
    return True


def ensure_partitions(conn: psycopg.Connection[Any], months_ahead: int = 3) -> list[str]:
    """Make sure the current UTC month and ``months_ahead`` more have partitions.

    Returns the names of the partitions it created (empty when all existed). Idempotent
    and safe to call from many workers at once.
    """
    months = months_to_ensure(conn, months_ahead)
    if not missing_months(conn, months):
        return []
    created: list[str] = []
    with conn.transaction():
        conn.execute(query("advisory_xact_lock"), (PARTITIONS_LOCK_KEY,))
        for month in missing_months(conn, months):
            conn.execute(partition_ddl(month))
            created.append(partition_name(month))
    return created


def list_partitions(conn: psycopg.Connection[Any], *, count_rows: bool = True) -> list[Partition]:
    """Every partition of ``continuum_events``, oldest first, with its row count.

    ``count_rows=True`` counts exactly (a scan per partition); ``False`` reports the
    planner's estimate (``pg_class.reltuples``), which is free but stale until ANALYZE.
    """
    partitions: list[Partition] = []
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(query("list_partitions")).fetchall()
    for schema, name, start, end, estimate in rows:
        count = int(estimate)
        if count_rows:
            count = int(
                scalar(
                    conn,
                    sql.SQL(query("count_rows")).format(partition=sql.Identifier(schema, name)),
                )
            )
        partitions.append(
            Partition(
                name=name,
                schema=schema,
                range_start=start,
                range_end=end,
                rows=count,
                rows_estimated=not count_rows,
            )
        )
    return partitions


def drop_old(
    conn: psycopg.Connection[Any],
    *,
    execute: bool = False,
    lock_timeout: str = "5s",
    progress: Progress = silent,
) -> DropOldReport:
    """Report (and with ``execute=True`` drop) partitions no run needs any more.

    A partition is eligible when its whole range lies before ``now()`` and every event in
    it belongs to a run whose ``retention_until`` is set and has passed. Events of runs
    without retention, with retention in the future, or whose run row is gone keep the
    partition. A no-op when no run has ``retention_until`` set. Dropping locks
    ``continuum_events`` (waiting at most ``lock_timeout``) and re-checks under the lock.
    """
    with conn.transaction():
        configured = bool(scalar(conn, query("retention_configured")))
        report = DropOldReport(retention_configured=configured, executed=execute)
        if not configured:
            return report
        report.eligible = [p for p in list_partitions(conn) if _eligible(conn, p)]
    if not execute or not report.eligible:
        return report
    try:
        with conn.transaction():
            conn.execute(query("set_local_lock_timeout"), (lock_timeout,))
            conn.execute(query("lock_events_for_drop"))
            for done, partition in enumerate(report.eligible, 1):
                progress("dropping partitions", done, len(report.eligible))
                if not _eligible(conn, partition):
                    continue
                conn.execute(
                    sql.SQL(query("drop_partition")).format(
                        partition=sql.Identifier(partition.schema, partition.name)
                    )
                )
                report.dropped.append(partition.name)
    except psycopg.errors.LockNotAvailable:
        report.dropped = []
        raise ContinuumError(
            f"could not lock continuum_events within {lock_timeout} to drop partitions "
            "(busy journal); nothing was dropped, retry when it is quieter"
        ) from None
    return report


def _eligible(conn: psycopg.Connection[Any], partition: Partition) -> bool:
    if partition.range_start is None or partition.range_end is None:
        return False
    if not scalar(conn, query("partition_is_past"), (partition.range_end,)):
        return False
    retained = scalar(
        conn,
        sql.SQL(query("partition_holds_retained_events")).format(
            partition=sql.Identifier(partition.schema, partition.name)
        ),
    )
    return not retained


def _covers(partition: Partition, instant: datetime) -> bool:
    if partition.range_start is None or partition.range_end is None:
        return False
    return partition.range_start <= instant < partition.range_end


def _month_start(first: date) -> datetime:
    return datetime(first.year, first.month, 1, tzinfo=UTC)


def _add_months(first: date, n: int) -> date:
    index = first.year * 12 + (first.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)
