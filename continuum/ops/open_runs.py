"""Open runs per workflow version, for ``continuum build --check --dsn``."""

from __future__ import annotations

from continuum.db.config import resolve_dsn
from continuum.db.migrate import require_current_schema
from continuum.db.pool import connect
from continuum.ops.queries import query


def open_runs_by_version(dsn: str | None) -> dict[tuple[str, str], int]:
    """``(workflow, version hash) → open runs`` (queued, running or suspended)."""
    with connect(resolve_dsn(dsn), autocommit=True, application_name="continuum-build") as conn:
        require_current_schema(conn)
        rows = conn.execute(query("open_runs_by_version"), {"sample": 1}).fetchall()
    return {(str(row[0]), str(row[1])): int(row[2]) for row in rows}


def open_runs_on_old_versions(
    dsn: str | None, current: dict[str, str]
) -> dict[str, dict[str, int]]:
    """Per workflow in ``current`` (name → the hash new runs take), open runs on any other
    version: ``{workflow: {old hash: runs}}`` (workflows without such runs left out)."""
    found: dict[str, dict[str, int]] = {}
    for (workflow, version_hash), runs in sorted(open_runs_by_version(dsn).items()):
        if workflow in current and version_hash != current[workflow]:
            found.setdefault(workflow, {})[version_hash] = runs
    return found
