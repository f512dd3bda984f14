"""Observer tests over HTTP: the app on a fresh migrated database with a worker running.

Reuses the real-Postgres fixtures of ``tests/integration``.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO) not in sys.path:  # tests/observer has no __init__: make `tests` importable
    sys.path.insert(0, str(REPO))

from continuum.client import Client  # noqa: E402
from continuum.runtime.worker import Worker  # noqa: E402
from tests.integration.conftest import pg_dsn, pg_server_dsn, pg_template  # noqa: E402
from tests.observer_flows import ACTIVITIES, FLOWS  # noqa: E402

__all__ = ["pg_dsn", "pg_server_dsn", "pg_template"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"obs-{uuid.uuid4().hex[:8]}") as c:
        yield c


@pytest.fixture
def worker(client: Client) -> Iterator[Worker]:
    w = Worker(client, workflows=FLOWS, activities=ACTIVITIES, poll_interval=0.2)
    with w:
        yield w
