"""``continuum replay`` (against current code and against a history file) and version
registration, on real Postgres."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import psycopg
from click.testing import CliRunner
from test_versions_harness import (
    V1,
    V1_COMMENT_ONLY,
    V2_INCOMPATIBLE,
    V2_PATCHED,
    V3,
    WORKFLOW,
    Project,
    conn,
    insert_events,
    insert_run,
    project,
    record_suspended_run,
)

from continuum.cli.version_commands import replay_command
from continuum.ops import check_against_current, register_versions

__all__ = ["conn", "project"]  # fixtures


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
    assert "replay drift in run r-old at event seq 2" in result.message
    assert "signal 'go'" in result.message and "signal 'start'" in result.message

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
    insert_run(conn, "r-unstarted", "1" * 16)  # no events yet: nothing to contradict

    everything = check_against_current(conn, project.registry())
    assert {r.run_id: r.status for r in everything} == {
        "r-old": "ok",
        "r-other": "no_current",
        "r-unstarted": "ok",
    }
    only = check_against_current(conn, project.registry(), workflow=WORKFLOW)
    assert [r.run_id for r in only] == ["r-old", "r-unstarted"]


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
