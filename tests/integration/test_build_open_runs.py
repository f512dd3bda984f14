"""``continuum build --check --dsn``: how many open runs sit on a workflow's old versions."""

from __future__ import annotations

import json
from typing import Any

import psycopg
from click.testing import CliRunner
from test_versions_harness import V1, V2_INCOMPATIBLE, WORKFLOW, Project, conn, insert_run, project

from continuum.cli.build_command import build_command

__all__ = ["conn", "project"]


def test_check_names_open_runs_on_old_versions(
    project: Project, conn: psycopg.Connection[Any], pg_dsn: str
) -> None:
    v1 = project.build(V1)
    insert_run(conn, "r-1", v1)
    insert_run(conn, "r-2", v1, state="running")
    insert_run(conn, "r-3", v1, state="completed")
    (project.root / "vapp" / "flows.py").write_text(V2_INCOMPATIBLE)
    args = ["--project", str(project.root), "--check", "--dsn", pg_dsn]
    result = CliRunner().invoke(build_command, args)
    assert result.exit_code == 1, result.output
    assert "effect graph changed: needs continuum.patched() or a new version" in result.output
    assert f"open runs on old versions of {WORKFLOW}: 2 (2 on {v1})" in result.output
    as_json = CliRunner().invoke(build_command, [*args, "--format", "json"])
    data = json.loads(as_json.output)
    assert data["open_runs_on_old_versions"] == {WORKFLOW: {v1: 2}}


def test_check_with_no_open_runs_says_none(project: Project, pg_dsn: str) -> None:
    project.build(V1)
    args = ["--project", str(project.root), "--check", "--dsn", pg_dsn]
    result = CliRunner().invoke(build_command, args)
    assert result.exit_code == 0, result.output
    assert "open runs on old versions: none" in result.output


def test_unreachable_database_is_one_line(project: Project) -> None:
    project.build(V1)
    dsn = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2"
    result = CliRunner().invoke(build_command, ["--project", str(project.root), "--dsn", dsn])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert result.output.startswith("Error:")
