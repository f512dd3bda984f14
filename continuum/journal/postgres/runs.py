"""Run rows: creation, reads, attributes and run leases (claim, heartbeat, release, expiry)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from continuum.engine.events import Event
from continuum.errors import RunAlreadyExists, RunNotFound
from continuum.journal.postgres import queues
from continuum.journal.postgres.statements import (
    Cursor,
    Row,
    dumps,
    event,
    fetch_all,
    fetch_one,
    run_info,
    sql,
)
from continuum.journal.records import Lease, NewRun
from continuum.models import RunInfo


def run_lease(row: Row) -> Lease:
    """A leased ``continuum_runs`` row (id, lease_owner, lease_token, workflow,
    version_hash) as a :class:`Lease`."""
    return Lease(
        row["id"], row["lease_owner"], row["lease_token"], row["workflow"], row["version_hash"]
    )


def now(cur: Cursor) -> datetime:
    """The database clock (transaction start time)."""
    row = fetch_one(cur, sql("runs", "now"))
    assert row is not None
    value: datetime = row["now"]
    return value


def create_run(
    cur: Cursor, new: NewRun, owner: str | None, ttl: timedelta, if_exists: str = "return"
) -> tuple[RunInfo, bool, Lease | None]:
    """Insert ``new`` (leased to ``owner`` when given); on an existing id, ``if_exists``
    says what happens: ``"return"`` it, ``"error"`` (:class:`RunAlreadyExists`) or
    ``"restart_failed"`` (a failed or cancelled run starts again under that id)."""
    params = {
        "id": new.id,
        "workflow": new.workflow,
        "version_hash": new.version_hash,
        "input": dumps(new.input, what=f"input of run {new.id!r}"),
        "namespace": new.namespace,
        "attributes": dumps(new.attributes, what="attributes"),
        "trace_context": new.trace_context,
        "owner": None if new.queue is not None else owner,
        "ttl": ttl,
        "queue": new.queue,
        "priority": new.priority,
    }
    row = fetch_one(cur, sql("runs", "insert_run"), params)
    if row is None:
        existing = fetch_one(cur, sql("runs", "lock_run_for_restart"), (new.id,))
        if existing is None:  # deleted between the insert and the lock: report it as absent
            raise RunNotFound(new.id)
        if if_exists == "error":
            raise RunAlreadyExists(new.id, existing["state"])
        if if_exists != "restart_failed" or existing["state"] not in ("failed", "cancelled"):
            return get_run(cur, new.id), False, None
        row = fetch_one(cur, sql("runs", "restart_run"), params)
        assert row is not None
    if new.retention_s is not None:
        cur.execute(sql("retention", "set_retention"), (new.retention_s, new.id))
    if new.queue is not None:
        queues.ensure_queue(cur, new.queue)
        cur.execute(sql("activations", "notify"), ("continuum_queue_ready", new.queue))
        queues.admit(cur, new.queue)
        return get_run(cur, new.id), True, None
    if owner is None or row["lease_token"] is None:
        cur.execute(sql("activations", "notify"), ("continuum_run_wake", new.id))
        return run_info(row), True, None
    return run_info(row), True, run_lease(row)


def get_run(cur: Cursor, run_id: str) -> RunInfo:
    """The run's public record, or :class:`RunNotFound`."""
    row = fetch_one(cur, sql("runs", "get_run"), (run_id,))
    if row is None:
        raise RunNotFound(run_id)
    return run_info(row)


def tip(cur: Cursor, run_id: str) -> str:
    """The live end of the ``continue_as_new`` chain containing ``run_id``."""
    row = fetch_one(cur, sql("runs", "chain_tip"), (run_id,))
    if row is None:
        raise RunNotFound(run_id)
    tip_id: str = row["id"]
    return tip_id


def history(cur: Cursor, run_id: str) -> list[Event]:
    """The run's events in seq order (``RunNotFound`` for an unknown id)."""
    rows = fetch_all(cur, sql("runs", "history"), (run_id,))
    if not rows and fetch_one(cur, sql("runs", "run_exists"), (run_id,)) is None:
        raise RunNotFound(run_id)
    return [event(r) for r in rows]


def set_attributes(cur: Cursor, run_id: str, attributes: dict[str, Any]) -> None:
    """Merge ``attributes`` into the run's search attributes, in SQL."""
    text = dumps(attributes, what="attributes")
    if fetch_one(cur, sql("runs", "merge_attributes"), (text, run_id)) is None:
        raise RunNotFound(run_id)


def claim_due_runs(cur: Cursor, owner: str, limit: int, ttl: timedelta) -> list[Lease]:
    """Lease up to ``limit`` due runs (``FOR UPDATE SKIP LOCKED``), rotating their tokens."""
    rows = fetch_all(
        cur, sql("runs", "claim_due_runs"), {"owner": owner, "ttl": ttl, "limit": limit}
    )
    return [run_lease(r) for r in rows]


def claim_run(cur: Cursor, run_id: str, owner: str, ttl: timedelta) -> Lease | None:
    """Lease one active, unleased (or lease-expired) run; ``None`` if someone holds it."""
    row = fetch_one(cur, sql("runs", "claim_run"), {"run_id": run_id, "owner": owner, "ttl": ttl})
    return None if row is None else run_lease(row)


def heartbeat_runs(cur: Cursor, owner: str, tokens: list[int], ttl: timedelta) -> set[int]:
    """Extend the leases ``owner`` still holds; returns the tokens that are still current."""
    if not tokens:
        return set()
    rows = fetch_all(
        cur, sql("runs", "heartbeat_runs"), {"owner": owner, "tokens": tokens, "ttl": ttl}
    )
    return {int(r["lease_token"]) for r in rows}


def release_orphaned_runs(
    cur: Cursor, owner: str, tokens: list[int], ttl: timedelta, min_age: timedelta
) -> list[str]:
    """Hand back runs leased to ``owner`` under tokens outside ``tokens`` (lost acks)."""
    params = {"owner": owner, "tokens": tokens, "ttl": ttl, "min_age": min_age}
    return [r["id"] for r in fetch_all(cur, sql("runs", "release_orphaned_runs"), params)]


def release_run(cur: Cursor, lease: Lease, retry_after: timedelta) -> bool:
    """Give the lease back and back the run off; ``False`` if the lease was already lost."""
    params = {"run_id": lease.run_id, "token": lease.token, "retry_after": retry_after}
    return fetch_one(cur, sql("runs", "release_run"), params) is not None


def expire_leases_of(cur: Cursor, owners: list[str]) -> tuple[int, int]:
    """End every run and task lease held by ``owners`` now; ``(runs, tasks)`` affected."""
    if not owners:
        return 0, 0
    runs = fetch_all(cur, sql("runs", "expire_run_leases_of"), (owners,))
    tasks = fetch_all(cur, sql("runs", "expire_task_leases_of"), (owners,))
    return len(runs), len(tasks)


def owners_with_leases(cur: Cursor, owners: list[str]) -> set[str]:
    """Which of ``owners`` still hold an unexpired run or task lease."""
    if not owners:
        return set()
    rows = fetch_all(cur, sql("runs", "leases_left_of"), (owners, owners))
    return {str(r["owner"]) for r in rows}


def recover_expired_runs(cur: Cursor) -> list[str]:
    """Make runs whose lease expired due again; returns their ids."""
    return [r["id"] for r in fetch_all(cur, sql("runs", "recover_expired_runs"))]


def wake_run(cur: Cursor, run_id: str) -> bool:
    """Make an active run due now (and NOTIFY); ``False`` if it is not active."""
    return fetch_one(cur, sql("runs", "wake_run"), (run_id,)) is not None
