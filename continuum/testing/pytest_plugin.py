"""pytest plugin (entry point ``continuum``): fixtures for workflow tests.

- ``continuum_env``: a fresh :class:`~continuum.testing.WorkflowEnvironment`.
- ``continuum_paranoid_env``: the same with paranoid re-replay of every finished run.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from continuum.testing.env import WorkflowEnvironment


@pytest.fixture
def continuum_env() -> Iterator[WorkflowEnvironment]:
    """An in-memory environment with a virtual clock starting at 2026-01-01 UTC."""
    yield WorkflowEnvironment()


@pytest.fixture
def continuum_paranoid_env() -> Iterator[WorkflowEnvironment]:
    """Like ``continuum_env``, re-replaying every finished run and failing on drift."""
    yield WorkflowEnvironment(paranoid=True)
