"""The pytest plugin's real-PostgreSQL fixtures, used in-process and by a user's project."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg

import continuum
from continuum.testing.pytest_plugin import WorkerFactory


@continuum.activity
def shout(text: str) -> str:
    return text.upper()


@continuum.workflow(name="plugin.echo")
def echo(text: str) -> str:
    return str(continuum.execute(shout, text)) + "!"


def test_pg_fixtures_give_a_fresh_migrated_database_and_a_worker(
    continuum_pg_dsn: str, continuum_pg_client: continuum.Client, continuum_worker: WorkerFactory
) -> None:
    with psycopg.connect(continuum_pg_dsn) as conn:
        row = conn.execute("SELECT count(*) FROM continuum_runs").fetchone()
    assert row == (0,)  # fresh: nothing from other tests
    continuum_worker(workflows=[echo], activities=[shout])
    rid = continuum_pg_client.start(echo, "hi")
    assert continuum_pg_client.result(rid, timeout=30) == "HI!"


def test_each_test_gets_its_own_database(continuum_pg_dsn: str, pg_dsn: str) -> None:
    assert continuum_pg_dsn != pg_dsn
    with psycopg.connect(continuum_pg_dsn) as conn:
        row = conn.execute("SELECT count(*) FROM continuum_runs").fetchone()
    assert row == (0,)


def test_a_users_project_runs_its_workflow_tests_on_postgres(
    tmp_path: Path, pg_server_dsn: str
) -> None:
    (tmp_path / "test_user_flows.py").write_text(
        textwrap.dedent(
            """
            import continuum

            @continuum.workflow(name="user.double")
            def double(n: int) -> int:
                return n * 2

            def test_double(continuum_pg_client, continuum_worker):
                continuum_worker(workflows=[double])
                run_id = continuum_pg_client.start(double, 21)
                assert continuum_pg_client.result(run_id, timeout=30) == 42

            def test_database_is_fresh(continuum_pg_client):
                assert continuum_pg_client.query().runs == []
            """
        )
    )
    env = {**os.environ, "CONTINUUM_TEST_DATABASE_URL": pg_server_dsn}
    env.pop("CONTINUUM_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user_flows.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout
