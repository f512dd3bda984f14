"""`continuum schedules ...`, `continuum queues list` and `continuum runs fork`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

import continuum
from continuum import seconds
from continuum.cli.main import cli
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow
def cli_job(n: int) -> int:
    continuum.sleep(seconds(0.05))
    return n * 2


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _json(pg_dsn: str, *args: str) -> Any:
    out = CliRunner().invoke(cli, [*args, "--dsn", pg_dsn, "--format", "json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.output)


def test_schedules_commands(client: Client, pg_dsn: str) -> None:
    client.schedule("nightly", cli_job, 2, cron="0 3 * * *", timezone="Europe/Paris")
    [listed] = _json(pg_dsn, "schedules", "list")["schedules"]
    assert listed["id"] == "nightly" and listed["cron"] == "0 3 * * *"
    assert listed["paused"] is False and listed["next_fire_at"]
    assert _json(pg_dsn, "schedules", "pause", "nightly")["paused"] is True
    assert _json(pg_dsn, "schedules", "resume", "nightly")["paused"] is False
    run_id = _json(pg_dsn, "schedules", "trigger", "nightly")["run_id"]
    assert run_id.startswith("nightly@") and client.get_run(run_id).workflow == cli_job.name
    text = CliRunner().invoke(cli, ["schedules", "list", "--dsn", pg_dsn])
    assert text.exit_code == 0 and "nightly" in text.output and "Europe/Paris" in text.output
    assert _json(pg_dsn, "schedules", "delete", "nightly") == {"id": "nightly", "deleted": True}
    missing = CliRunner().invoke(cli, ["schedules", "pause", "nightly", "--dsn", pg_dsn])
    assert missing.exit_code != 0
    assert "nightly" in missing.output and "Traceback" not in missing.output


def test_queues_list_shows_running_and_queued_counts(client: Client, pg_dsn: str) -> None:
    client.configure_queue("emails", concurrency=1, rate_limit=(10, seconds(60)))
    client.start(cli_job, 1, queue="emails")
    client.start(cli_job, 2, queue="emails")
    [q] = _json(pg_dsn, "queues", "list")["queues"]
    assert (q["name"], q["concurrency"], q["running"], q["queued"]) == ("emails", 1, 1, 1)
    text = CliRunner().invoke(cli, ["queues", "list", "--dsn", pg_dsn])
    assert text.exit_code == 0 and "emails" in text.output and "10/60s" in text.output
    listed = _json(pg_dsn, "runs", "list", "--state", "queued")["runs"]
    assert [r["queue"] for r in listed] == ["emails"]


def test_runs_fork(client: Client, pg_dsn: str) -> None:
    with Worker(client, workflows=[cli_job], poll_interval=0.5):
        client.start(cli_job, 21, id="src")
        assert client.result("src", timeout=20) == 42
        out = _json(pg_dsn, "runs", "fork", "src", "--at-seq", "2", "--id", "src-2")
        assert out["run_id"] == "src-2"
        assert client.result("src-2", timeout=20) == 42
    info = client.get_run("src-2")
    assert (info.forked_from_run_id, info.forked_at_seq) == ("src", 2)
    bad = CliRunner().invoke(cli, ["runs", "fork", "src", "--at-seq", "99", "--dsn", pg_dsn])
    assert bad.exit_code != 0 and "pick a seq" in bad.output
