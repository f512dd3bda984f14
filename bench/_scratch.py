"""Shared by the benchmarks: a scratch database on the chosen server, and stats reads."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from continuum.db.admin import create_database, drop_database
from continuum.db.config import resolve_dsn, with_dbname
from continuum.db.migrate import migrate


@contextmanager
def scratch_database(dsn: str | None) -> Iterator[str]:
    """A freshly migrated database on the server of ``dsn`` (else env / embedded)."""
    admin = with_dbname(resolve_dsn(dsn), "postgres")
    name = f"continuum_bench_{os.getpid()}"
    target = create_database(admin, name, if_missing=True)
    try:
        migrate(target)
        yield target
    finally:
        drop_database(admin, name)


def server_settings(dsn: str) -> dict[str, str]:
    """The durability settings that decide the commit rate."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        out = {}
        for name in ("server_version", "fsync", "synchronous_commit", "wal_sync_method"):
            row = conn.execute(f"SHOW {name}").fetchone()
            out[name] = str(row[0]) if row else "?"
        return out


def xact_commits(dsn: str) -> int:
    """Committed transactions of this database so far (after letting stats flush)."""
    time.sleep(1.2)  # backends flush their statistics at most once a second
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    return int(row[0]) if row else 0


def percentile(values: list[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``values``."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]
