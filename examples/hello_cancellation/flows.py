"""Cancel a running workflow and still run its cleanup activity.

A port of the ``hello_cancellation`` sample of Temporal's Python samples: the workflow
starts a long activity; the caller cancels the run with a grace period; the workflow
gets ``continuum.Cancelled`` at the wait, its ``finally:`` runs a cleanup activity, and
the run ends ``cancelled``. Run it with ``python -m examples.hello_cancellation.run``.
"""

from __future__ import annotations

import time

import continuum

CLEANUPS: list[str] = []
JOB_SECONDS = 5.0


@continuum.activity
def long_job(seconds: float) -> str:
    """Work that takes a while (here: sleeping in small steps)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return "finished"


@continuum.activity
def cleanup(job: str) -> str:
    """What must run whatever happens to the job (release a lock, delete temp files)."""
    CLEANUPS.append(job)
    return f"cleaned up after {job}"


@continuum.workflow(name="examples.hello_cancellation")
def cancellable(job: str) -> str:
    """Runs ``long_job``; cleans up on every way out, cancellation included."""
    continuum.set_event("status", "working")
    try:
        return continuum.execute(long_job, JOB_SECONDS)
    finally:
        continuum.set_event("status", continuum.execute(cleanup, job))
