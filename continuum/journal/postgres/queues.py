"""Queues: their limits, and admission of queued runs under the queue's row lock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from continuum.journal.postgres.statements import Cursor, fetch_all, fetch_one, sql
from continuum.models import QueueInfo

ADMIT_BATCH = 1000


@dataclass(slots=True)
class Admission:
    """What one admission pass did: runs admitted, runs still waiting, rate-limit wait."""

    admitted: list[str]
    queued: int
    rate_wait_s: float | None


def configure(
    cur: Cursor,
    name: str,
    concurrency: int | None,
    rate_limit: tuple[int, timedelta] | None,
) -> None:
    """Create or replace the queue's limits, then admit what they now allow."""
    params = {
        "name": name,
        "concurrency": concurrency,
        "rate_limit": rate_limit[0] if rate_limit else None,
        "rate_period": rate_limit[1] if rate_limit else None,
    }
    cur.execute(sql("queues", "upsert_queue"), params)
    admit(cur, name)


def ensure_queue(cur: Cursor, name: str) -> None:
    """Make sure the queue has a row (its admission lock)."""
    cur.execute(sql("queues", "ensure_queue"), (name,))


def admit(cur: Cursor, name: str, limit: int = ADMIT_BATCH, *, backlog: bool = False) -> Admission:
    """Start as many queued runs of ``name`` as its limits allow, lowest priority first.

    Holds the queue's row lock until the caller's transaction ends; the counting
    statement runs after the lock is taken, so it sees every earlier admission. With
    ``backlog`` it also reports what still waits and the rate-limit wait (one more
    statement; the workers' admitter needs it, a start does not).
    """
    if fetch_one(cur, sql("queues", "lock_queue"), (name,)) is None:
        return Admission([], 0, None)
    rows = fetch_all(cur, sql("queues", "admit"), {"queue": name, "limit": limit})
    if not backlog:
        return Admission([r["id"] for r in rows], 0, None)
    backlog_row = fetch_one(cur, sql("queues", "queue_backlog"), {"queue": name})
    assert backlog_row is not None
    wait = backlog_row["rate_wait_s"]
    return Admission(
        [r["id"] for r in rows], int(backlog_row["queued"]), None if wait is None else float(wait)
    )


def waiting_queues(cur: Cursor) -> list[str]:
    """Queues that have runs waiting for admission."""
    return [r["queue"] for r in fetch_all(cur, sql("queues", "waiting_queues"))]


def list_queues(cur: Cursor) -> list[QueueInfo]:
    """Every known queue with its limits and running/queued counts."""
    out = []
    for r in fetch_all(cur, sql("queues", "list_queues")):
        rate = (r["rate_limit"], r["rate_period"]) if r["rate_limit"] is not None else None
        out.append(
            QueueInfo(
                name=r["name"],
                concurrency=r["concurrency"],
                rate_limit=rate,
                running=r["running"],
                queued=r["queued"],
            )
        )
    return out
