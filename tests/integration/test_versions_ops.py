"""Operator tools for versions against real Postgres: audit, gc, replay --against-current,
registration and continued-chain archival.

Each test builds a throwaway project in ``tmp_path`` with ``continuum build`` and sets up
runs, events, tasks and workers with plain SQL — no worker process is needed to create
the situations an operator meets.
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
from click.testing import CliRunner
from psycopg.types.json import Jsonb

from continuum.cli.version_commands import (
    archive_command,
    audit_command,
    gc_versions_command,
    replay_command,
)
from continuum.definitions.versions import VersionRegistry
from continuum.ops import (
    archive_continued_chains,
    audit,
    check_against_current,
    gc_project_versions,
    gc_versions_db,
    pinned_versions,
    register_versions,
)
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


def insert_events(conn: psycopg.Connection[Any], run_id: str, history: list[dict[str, Any]]) -> None:
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


def record_suspended_run(registry: VersionRegistry, version_hash: str) -> list[dict[str, Any]]:
    """A run of the frozen ``version_hash`` started in memory, suspended at its signal."""
    frozen = registry.resolve(WORKFLOW, version_hash)
    assert frozen is not None and frozen.frozen_hash == version_hash
    env = WorkflowEnvironment(workflows=[frozen])
    run_id = env.start(frozen, "ada")
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


# -- replay --against-current --------------------------------------------------------
def test_against_current_flags_a_run_whose_history_the_new_body_cannot_replay(
    project: Project, conn: psycopg.Connection[Any], pg_dsn: str
) -> None:
    v1 = project.build(V1)
    history = record_suspended_run(project.registry(), v1)
    insert_run(conn, "r-old", v1)
    insert_events(conn, "r-old", history)

    v2 = project.build(V2_INCOMPATIBLE)
    assert v2 != v1
    [result] = check_against_current(conn, project.registry())

    assert (result.run_id, result.status, result.compatible) == ("r-old", "drift", False)
    assert (result.run_version_hash, result.current_hash) == (v1, v2)
    assert "start" in result.message and "go" in result.message

    cli = CliRunner().invoke(
        replay_command,
        ["--against-current", "--dsn", pg_dsn, "--project", str(project.root), "--format", "json"],
    )
    assert cli.exit_code == 1, cli.output
    data = json.loads(cli.stdout)
    assert data["ok"] is False and data["incompatible"] == 1
    assert data["runs"][0]["status"] == "drift"


def test_against_current_passes_a_comment_only_change(
    project: Project, conn: psycopg.Connection[Any], pg_dsn: str
) -> None:
    v1 = project.build(V1)
    insert_run(conn, "r-old", v1)
    insert_events(conn, "r-old", record_suspended_run(project.registry(), v1))

    assert project.build(V1_COMMENT_ONLY) == v1  # comments do not make a version
    [result] = check_against_current(conn, project.registry())
    assert (result.status, result.current_hash) == ("ok", v1)

    cli = CliRunner().invoke(
        replay_command,
        ["--against-current", "--dsn", pg_dsn, "--project", str(project.root)],
    )
    assert cli.exit_code == 0, cli.output
    assert "1 open run(s) checked, 0 incompatible" in cli.stdout


def test_against_current_passes_a_new_version_that_keeps_the_recorded_commands(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    v1 = project.build(V1)
    insert_run(conn, "r-old", v1)
    insert_events(conn, "r-old", record_suspended_run(project.registry(), v1))
    insert_run(conn, "r-done", v1, state="completed")  # finished runs are not checked

    v3 = project.build(V3)
    results = check_against_current(conn, project.registry())
    assert [(r.run_id, r.status, r.current_hash) for r in results] == [("r-old", "ok", v3)]


def test_against_current_can_be_limited_to_one_workflow(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    v1 = project.build(V1)
    insert_run(conn, "r-old", v1)
    insert_events(conn, "r-old", record_suspended_run(project.registry(), v1))
    insert_run(conn, "r-other", "0" * 16, workflow="other:flow")

    everything = check_against_current(conn, project.registry())
    assert {r.run_id: r.status for r in everything} == {"r-old": "ok", "r-other": "no_current"}
    only = check_against_current(conn, project.registry(), workflow=WORKFLOW)
    assert [r.run_id for r in only] == ["r-old"]


def test_replay_history_file_exits_one_on_drift_and_zero_when_it_replays(
    project: Project, tmp_path: Path
) -> None:
    v1 = project.build(V1)
    history = record_suspended_run(project.registry(), v1)
    path = tmp_path / "history.json"
    path.write_text(json.dumps(history))

    ok = CliRunner().invoke(
        replay_command, ["--history", str(path), "--workflow", f"{WORKFLOW}", "--format", "json"]
    )
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout) == {"ok": True, "state": "suspended", "status": "ok"}

    (project.root / "vapp" / "flows.py").write_text(V2_INCOMPATIBLE)
    del sys.modules["vapp.flows"]
    drift = CliRunner().invoke(replay_command, ["--history", str(path), "--workflow", WORKFLOW])
    assert drift.exit_code == 1
    assert drift.stdout.startswith("drift: ")


def test_replay_rejects_a_workflow_that_is_not_importable_in_one_line(project: Project) -> None:
    project.build(V1)
    history = project.root / "h.json"
    history.write_text("[]")
    result = CliRunner().invoke(
        replay_command, ["--history", str(history), "--workflow", "vapp.nowhere:greet"]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot import vapp.nowhere:greet")
    assert "Traceback" not in result.output


# -- registration --------------------------------------------------------------------
def test_register_versions_upserts_every_loadable_version_and_skips_broken_ones(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    v1 = project.build(V1)
    v2 = project.build(V3)
    v3 = project.build(V2_PATCHED)
    project.frozen_file(v2).write_text("raise ImportError('gone')\n")

    report = register_versions(conn, project.registry(), instance="blue")

    assert sorted(report.registered) == sorted([(WORKFLOW, v1), (WORKFLOW, v3)])
    assert report.unloadable == [(WORKFLOW, v2)]
    rows = conn.execute(
        "SELECT version_hash, entrypoint FROM continuum_workflow_versions ORDER BY 1"
    ).fetchall()
    assert {r[0] for r in rows} == {v1, v3}
    assert all(r[1] == f"vapp._continuum.V_{r[0]}:greet" for r in rows)

    first = conn.execute("SELECT max(registered_at) FROM continuum_workflow_versions").fetchone()
    register_versions(conn, project.registry(), instance="blue")
    again = conn.execute("SELECT count(*), max(registered_at) FROM continuum_workflow_versions")
    count, latest = again.fetchone() or (0, None)
    assert count == 2 and first is not None and latest >= first[0]
