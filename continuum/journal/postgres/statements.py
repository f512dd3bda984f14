"""Rows in, records out: the named SQL of the Postgres journal and the row converters.

The SQL itself lives in ``sql/*.sql`` (one file per concern), loaded with the storage
layer's named-query loader, so every statement can be reviewed as SQL.
"""

from __future__ import annotations

import json
from typing import Any, LiteralString

import psycopg

from continuum.db.sqlfiles import load_queries
from continuum.engine.events import Event
from continuum.errors import PayloadError
from continuum.models import RunInfo, RunState

Row = dict[str, Any]
Cursor = psycopg.Cursor[Row]

_PACKAGE = "continuum.journal.postgres.sql"


def sql(resource: str, name: str) -> LiteralString:
    """The statement ``name`` of ``sql/<resource>.sql``."""
    return load_queries(_PACKAGE, f"{resource}.sql")[name]


def dumps(value: Any, *, what: str = "value") -> str:
    """JSON text for a ``jsonb`` parameter, or :class:`PayloadError` before any SQL runs."""
    try:
        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as exc:
        raise PayloadError(
            f"{what} is not JSON ({exc}); encode it with continuum.payloads.encode first"
        ) from None


def dumps_or_none(value: Any, *, what: str = "value") -> str | None:
    """Like :func:`dumps`, but ``None`` stays SQL ``NULL``."""
    return None if value is None else dumps(value, what=what)


def run_info(row: Row) -> RunInfo:
    """A ``continuum_runs`` row as the public :class:`RunInfo`."""
    return RunInfo(
        id=row["id"],
        workflow=row["workflow"],
        version_hash=row["version_hash"],
        state=RunState(row["state"]),
        namespace=row["namespace"],
        attributes=row["attributes"] or {},
        parent_run_id=row["parent_run_id"],
        correlation_id=row["correlation_id"],
        continued_from_run_id=row["continued_from_run_id"],
        continued_to_run_id=row["continued_to_run_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        result=row["result"],
        error=row["error"],
        queue=row.get("queue"),
        priority=row.get("priority") or 0,
        forked_from_run_id=row.get("forked_from_run_id"),
        forked_at_seq=row.get("forked_at_seq"),
    )


def event(row: Row) -> Event:
    """A ``continuum_events`` row as an :class:`Event`."""
    return Event(
        row["seq"],
        row["type"],
        command=row["command"],
        ref_seq=row["ref_seq"],
        data=row["data"],
        inserted_at=row["inserted_at"],
    )


def fetch_one(cur: Cursor, stmt: LiteralString, params: Any = None) -> Row | None:
    """Execute ``stmt`` and return its first row (or ``None``)."""
    cur.execute(stmt, params)
    return cur.fetchone()


def fetch_all(cur: Cursor, stmt: LiteralString, params: Any = None) -> list[Row]:
    """Execute ``stmt`` and return every row."""
    cur.execute(stmt, params)
    return cur.fetchall()
