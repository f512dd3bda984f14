"""Which workflow versions the live workers of a database say they can run."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel

from continuum.ops.queries import query

LIVE_WITHIN = timedelta(seconds=30)
"""A worker whose heartbeat is older than this is not counted as live."""


class LiveWorker(BaseModel):
    """A worker row with a recent heartbeat and the versions it advertises."""

    id: str
    instance: str
    host: str
    heartbeat_at: datetime
    versions: list[str]


def version_key(workflow: str, version_hash: str) -> str:
    """``"workflow@hash"``: how workers list versions in ``continuum_workers.versions``."""
    return f"{workflow}@{version_hash}"


def _parse_versions(raw: Any) -> list[str]:
    # The canonical shape is ["workflow@hash", ...]; [[workflow, hash], ...] rows written
    # by earlier workers are read too, so an audit during a rolling deploy stays right.
    if not isinstance(raw, list):
        return []
    out: list[str] = []
    for item in raw:
        if isinstance(item, str) and "@" in item:
            out.append(item)
        elif isinstance(item, list) and len(item) == 2 and all(isinstance(p, str) for p in item):
            out.append(version_key(item[0], item[1]))
    return out


def live_workers(
    conn: psycopg.Connection[Any], *, live_within: timedelta = LIVE_WITHIN
) -> list[LiveWorker]:
    """Workers whose heartbeat is within ``live_within`` of the database clock."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("live_workers"), {"live_within": live_within}).fetchall()
    return [
        LiveWorker(
            id=row["id"],
            instance=row["instance"],
            host=row["host"],
            heartbeat_at=row["heartbeat_at"],
            versions=_parse_versions(row["versions"]),
        )
        for row in rows
    ]


def live_version_keys(workers: list[LiveWorker]) -> set[str]:
    """Every ``"workflow@hash"`` some live worker advertises."""
    return {key for worker in workers for key in worker.versions}
