"""pytest plugin (entry point ``continuum``): fixtures for workflow tests.

In memory (no database):

- ``continuum_env``: a fresh :class:`~continuum.testing.WorkflowEnvironment`.
- ``continuum_paranoid_env``: the same with paranoid re-replay of every finished run.

On real PostgreSQL (see :mod:`continuum.testing.postgres` for where the server comes from):

- ``continuum_pg_server`` (session): an admin DSN of the test server.
- ``continuum_pg_dsn``: a fresh, migrated database of this test's own, dropped afterwards.
- ``continuum_pg_client``: a :class:`~continuum.Client` on that database.
- ``continuum_worker``: a factory, ``continuum_worker(workflows=[...], activities=[...],
  **worker_options)``, returning a started :class:`~continuum.Worker` on that client;
  every worker it made is stopped when the test ends.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from continuum.testing.env import WorkflowEnvironment

if TYPE_CHECKING:
    from continuum.client.client import Client
    from continuum.definitions.activity import Activity
    from continuum.definitions.workflow import Workflow
    from continuum.runtime.worker import Worker


@pytest.fixture
def continuum_env() -> Iterator[WorkflowEnvironment]:
    """An in-memory environment with a virtual clock starting at 2026-01-01 UTC."""
    yield WorkflowEnvironment()


@pytest.fixture
def continuum_paranoid_env() -> Iterator[WorkflowEnvironment]:
    """Like ``continuum_env``, re-replaying every finished run and failing on drift."""
    yield WorkflowEnvironment(paranoid=True)


@pytest.fixture(scope="session")
def continuum_pg_server(pytestconfig: pytest.Config) -> str:
    """Admin DSN of the session's test server (``$CONTINUUM_TEST_DATABASE_URL`` or embedded)."""
    from continuum.testing.postgres import server_dsn

    return server_dsn(pytestconfig.rootpath)


@pytest.fixture(scope="session")
def continuum_pg_template(continuum_pg_server: str) -> str:
    """Name of the migrated template every ``continuum_pg_dsn`` is cloned from."""
    from continuum.testing.postgres import prepare_template

    return prepare_template(continuum_pg_server)


@pytest.fixture
def continuum_pg_dsn(continuum_pg_server: str, continuum_pg_template: str) -> Iterator[str]:
    """DSN of a fresh, fully migrated database for this test alone."""
    from continuum.testing.postgres import fresh_database

    with fresh_database(continuum_pg_server, continuum_pg_template) as dsn:
        yield dsn


@pytest.fixture
def continuum_pg_client(continuum_pg_dsn: str) -> Iterator[Client]:
    """A ``continuum.Client`` on this test's database (its own instance name)."""
    from continuum.client.client import Client

    with Client(continuum_pg_dsn, instance=f"test-{uuid.uuid4().hex[:8]}") as client:
        yield client


class WorkerFactory(Protocol):
    """The ``continuum_worker`` fixture's type."""

    def __call__(
        self,
        workflows: Iterable[Workflow[Any, Any]] = (),
        activities: Iterable[Activity[..., Any]] = (),
        **options: Any,
    ) -> Worker: ...


@pytest.fixture
def continuum_worker(continuum_pg_client: Client) -> Iterator[WorkerFactory]:
    """``continuum_worker(workflows=[...], activities=[...], **options)``: a started worker."""
    from continuum.runtime.worker import Worker

    started: list[Worker] = []

    def make(
        workflows: Iterable[Workflow[Any, Any]] = (),
        activities: Iterable[Activity[..., Any]] = (),
        **options: Any,
    ) -> Worker:
        options.setdefault("poll_interval", 0.2)
        worker = Worker(continuum_pg_client, workflows, activities, **options)
        worker.start()
        started.append(worker)
        return worker

    yield make
    for worker in reversed(started):
        worker.stop()
