"""Killing the parent's worker right after it started a child never yields a second child."""

from __future__ import annotations

import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from chaos_support import Workers, wait_until

from continuum.client import Client

FLOWS = """
import continuum

@continuum.workflow(name="chaos.child")
def child(n: int) -> int:
    return n + int(continuum.wait_signal("go"))

@continuum.workflow(name="chaos.parent")
def parent(n: int) -> int:
    ref = continuum.start_child(child, n)
    return continuum.wait_child(ref) * 10
"""


@pytest.fixture
def workers(tmp_path: Path, pg_dsn: str) -> Iterator[Workers]:
    w = Workers(tmp_path, pg_dsn)
    yield w
    w.close()


def test_parent_worker_killed_after_child_start_leaves_exactly_one_child(
    workers: Workers, pg_dsn: str
) -> None:
    module = workers.write_module(FLOWS)
    first = workers.spawn(module, "--max-runs", "2")
    parent_id = f"parent-{uuid.uuid4().hex[:6]}"

    def children() -> list[str]:
        with psycopg.connect(pg_dsn) as conn:
            rows = conn.execute(
                "SELECT id FROM continuum_runs WHERE parent_run_id = %s", (parent_id,)
            ).fetchall()
        return [str(r[0]) for r in rows]

    flows = _import(workers, module)
    with Client(pg_dsn, instance=f"chaos-{uuid.uuid4().hex[:6]}") as client:
        client.start(flows.parent, 1, id=parent_id)
    wait_until(lambda: len(children()) == 1, what="the child run to exist")
    workers.kill(first)
    workers.spawn(module)
    (child_id,) = children()
    with Client(pg_dsn, instance=f"chaos-{uuid.uuid4().hex[:6]}") as client:
        client.signal(child_id, "go", 4)
        assert client.result(parent_id, timeout=60) == 50
    assert children() == [child_id]


def _import(workers: Workers, module: str) -> ModuleType:
    """Import the generated flows module here too, so the client can start its workflow."""
    sys.path.insert(0, str(workers.tmp_path))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(workers.tmp_path))
