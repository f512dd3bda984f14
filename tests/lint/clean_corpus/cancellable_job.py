"""A long job that always releases its lock, whether it completes, fails or is cancelled."""

from __future__ import annotations

import continuum
from continuum import hours


@continuum.activity
def acquire_lock(resource: str) -> str:
    return f"lock-{resource}"


@continuum.activity(heartbeat_timeout=hours(1), timeout=hours(6))
def crunch(resource: str) -> int:
    return 42


@continuum.activity(max_attempts=10)
def release_lock(lock: str) -> None:
    return None


@continuum.workflow
def locked_job(resource: str) -> int:
    lock = continuum.execute(acquire_lock, resource)
    try:
        return continuum.execute(crunch, resource)
    except continuum.Cancelled:
        continuum.logger.info("job on %s cancelled", resource)
        raise
    finally:
        continuum.execute(release_lock, lock)
