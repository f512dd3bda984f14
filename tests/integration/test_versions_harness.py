"""Shared pieces of the ``test_versions_*`` tests: a throwaway built project and SQL setup.

Each test builds a project in ``tmp_path`` with ``continuum build`` and sets up runs,
events, tasks and workers with plain SQL — no worker process is needed to create the
situations an operator meets.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb

from continuum.definitions.versions import VersionRegistry
from continuum.testing import WorkflowEnvironment
from continuum_codegen.build import build

WORKFLOW = "vapp.flows:greet"

PYPROJECT = """\
[project]
name = "vapp"

[tool.continuum]
workflows = ["vapp.flows"]
generated = "vapp/_continuum"
"""

V1 = """\
import continuum


@continuum.workflow
def greet(name: str) -> str:
    word = continuum.wait_signal("go")
    return f"hello {name} {word}"
"""

# Same commands in the same order; only what happens after the last one differs.
V1_COMMENT_ONLY = """\
import continuum


@continuum.workflow
def greet(name: str) -> str:
    word = continuum.wait_signal("go")
    return f"hello {name} {word}"  # a comment changes nothing
"""

# Waits for a different signal first: a run suspended on "go" cannot replay this.
V2_INCOMPATIBLE = """\
import continuum


@continuum.workflow
def greet(name: str) -> str:
    word = continuum.wait_signal("start")
    return f"hello {name} {word}"
"""

V2_PATCHED = """\
import continuum


@continuum.workflow
def greet(name: str) -> str:
    word = continuum.wait_signal("go")
    if continuum.patched("shout"):
        return f"HELLO {name} {word}"
    return f"hello {name} {word}"
"""

V3 = """\
import continuum


@continuum.workflow
def greet(name: str) -> str:
    word = continuum.wait_signal("go")
    return f"hi {name} {word}"
"""


class Project:
    """A throwaway project whose ``vapp.flows`` is rewritten and rebuilt per version."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "pyproject.toml").write_text(PYPROJECT)
        (root / "vapp").mkdir()
        (root / "vapp" / "__init__.py").write_text("")

    def build(self, source: str) -> str:
        """Write ``source`` as vapp/flows.py, build, and return the current hash."""
        (self.root / "vapp" / "flows.py").write_text(textwrap.dedent(source))
        report = build(self.root)
        return report.workflows[0].hash

    def registry(self) -> VersionRegistry:
        return VersionRegistry.from_manifest(self.root / "vapp" / "_continuum" / "manifest.json")

    def frozen_file(self, version_hash: str) -> Path:
        return self.root / "vapp" / "_continuum" / f"V_{version_hash}.py"

    def manifest_hashes(self) -> set[str]:
        data = json.loads((self.root / "vapp" / "_continuum" / "manifest.json").read_text())
        return set(data["workflows"][WORKFLOW]["versions"])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """A project importable from ``tmp_path``; its modules and path entries vanish after."""
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # flows.py is rewritten in place
    before_modules = set(sys.modules)
    before_path = list(sys.path)
    sys.path.insert(0, str(tmp_path))
    try:
        yield Project(tmp_path)
    finally:
        sys.path[:] = before_path
        for name in set(sys.modules) - before_modules:
            if name == "vapp" or name.startswith("vapp."):
                del sys.modules[name]


@pytest.fixture
def conn(pg_dsn: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(pg_dsn, autocommit=True) as connection:
        yield connection


def insert_run(
    conn: psycopg.Connection[Any],
    run_id: str,
    version_hash: str,
    *,
    state: str = "suspended",
    workflow: str = WORKFLOW,
    correlation_id: str | None = None,
    continued_to: str | None = None,
    finished_ago: timedelta | None = None,
) -> None:
    conn.execute(
        """
        INSERT INTO continuum_runs
            (id, workflow, version_hash, state, input, correlation_id, continued_to_run_id,
             finished_at)
        VALUES (%s, %s, %s, %s, %s, %s, %s, now() - %s::interval)
        """,
        (
            run_id,
            workflow,
            version_hash,
            state,
            Jsonb("ada"),
            correlation_id or run_id,
            continued_to,
            finished_ago,
        ),
    )


def insert_events(
    conn: psycopg.Connection[Any], run_id: str, history: list[dict[str, Any]]
) -> None:
    for ev in history:
        conn.execute(
            "INSERT INTO continuum_events (run_id, seq, type, command, ref_seq, data) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (
                run_id,
                ev["seq"],
                ev["type"],
                Jsonb(ev["command"]) if ev.get("command") is not None else None,
                ev.get("ref_seq"),
                Jsonb(ev.get("data") or {}),
            ),
        )


def record_suspended_run(
    registry: VersionRegistry, version_hash: str, run_id: str = "r-old"
) -> list[dict[str, Any]]:
    """A run of the frozen ``version_hash`` started in memory, suspended at its signal."""
    frozen = registry.resolve(WORKFLOW, version_hash)
    assert frozen is not None and frozen.frozen_hash == version_hash
    env = WorkflowEnvironment(workflows=[frozen])
    env.start(frozen, "ada", id=run_id)
    assert env.get_run(run_id).state.value == "suspended"
    return env.history(run_id)


def insert_worker(
    conn: psycopg.Connection[Any], worker_id: str, versions: Any, *, heartbeat_ago: timedelta
) -> None:
    conn.execute(
        "INSERT INTO continuum_workers (id, instance, host, pid, heartbeat_at, versions) "
        "VALUES (%s, 'default', 'h', 1, now() - %s::interval, %s)",
        (worker_id, heartbeat_ago, Jsonb(versions)),
    )
