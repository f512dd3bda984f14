"""Testing kit: an in-memory environment with a virtual clock, golden-history replay,
paranoid re-replay (``CONTINUUM_PARANOID=1``), an activity environment for unit-testing
one activity body (``activity_info``/``heartbeat`` inside), and a pytest plugin."""

from continuum.testing.activity import ActivityEnvironment
from continuum.testing.env import RunNotFinished, WorkflowEnvironment
from continuum.testing.replay import ReplayOutcome, load_history, replay, verify_run

__all__ = [
    "ActivityEnvironment",
    "ReplayOutcome",
    "RunNotFinished",
    "WorkflowEnvironment",
    "load_history",
    "replay",
    "verify_run",
]
