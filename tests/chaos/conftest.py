"""Chaos tests: worker processes SIGKILLed, connections terminated, workers racing.

Reuses the real-Postgres fixtures of ``tests/integration`` (a fresh migrated database
per test) and adds helpers to write workflow modules into ``tmp_path`` and run
``continuum worker`` on them in subprocesses.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from chaos_support import Workers

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO) not in sys.path:  # tests/chaos has no __init__: make `tests` importable
    sys.path.insert(0, str(REPO))

from tests.integration.conftest import empty_db, pg_dsn, pg_server_dsn, pg_template  # noqa: E402

__all__ = ["empty_db", "pg_dsn", "pg_server_dsn", "pg_template"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.postgres)
            item.add_marker(pytest.mark.chaos)


@pytest.fixture
def workers(tmp_path: Path, pg_dsn: str) -> Iterator[Workers]:
    """Worker subprocesses on this test's database."""
    w = Workers(tmp_path, pg_dsn)
    try:
        yield w
    finally:
        w.close()
