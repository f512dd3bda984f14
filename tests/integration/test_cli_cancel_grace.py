"""``continuum runs cancel --grace SECONDS``: a cooperative cancel from the command line."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

import continuum
from continuum.cli.worker_commands import runs_group
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow(name="cli.grace.tidy")
def tidy(_: None) -> str:
    try:
        continuum.wait_signal("never")
    except continuum.Cancelled:
        continuum.set_event("cleaned", True)
        raise
    return "signalled"


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with (
        Client(pg_dsn, instance=f"grace-{uuid.uuid4().hex[:8]}") as c,
        Worker(c, workflows=[tidy], poll_interval=0.5),
    ):
        yield c


def _suspended(client: Client, run_id: str) -> None:
    deadline = time.monotonic() + 30
    while client.get_run(run_id).state != "suspended":
        assert time.monotonic() < deadline, "the run never reached its wait"
        time.sleep(0.05)


def test_cancel_with_grace_lets_the_run_clean_up(client: Client, pg_dsn: str) -> None:
    run_id = client.start(tidy, None)
    _suspended(client, run_id)
    out = CliRunner().invoke(runs_group, ["cancel", run_id, "--grace", "30", "--dsn", pg_dsn])
    assert out.exit_code == 0, out.output
    assert f"run {run_id} is " in out.output
    assert "cancel requested; it has 30s to clean up" in out.output
    with pytest.raises(continuum.RunCancelled):
        client.result(run_id, timeout=30)
    assert client.get_event(run_id, "cleaned", timeout=5) is True
    assert [e["type"] for e in client.history(run_id)].count("cancel_delivered") == 1


def test_cancel_without_grace_is_immediate(client: Client, pg_dsn: str) -> None:
    run_id = client.start(tidy, None)
    _suspended(client, run_id)
    out = CliRunner().invoke(runs_group, ["cancel", run_id, "--dsn", pg_dsn])
    assert out.exit_code == 0, out.output
    assert out.output.strip() == f"run {run_id} is cancelled"
    assert "cancel_delivered" not in [e["type"] for e in client.history(run_id)]


@pytest.mark.parametrize("grace", ["0", "-5", "soon"])
def test_a_bad_grace_is_refused_and_the_run_is_untouched(
    client: Client, pg_dsn: str, grace: str
) -> None:
    run_id = client.start(tidy, None)
    _suspended(client, run_id)
    out = CliRunner().invoke(runs_group, ["cancel", run_id, "--grace", grace, "--dsn", pg_dsn])
    assert out.exit_code == 2
    assert "--grace" in out.output
    assert client.get_run(run_id).state == "suspended"
    client.signal(run_id, "never", None)
    assert client.result(run_id, timeout=30) == "signalled"
