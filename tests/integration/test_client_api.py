"""The client against real Postgres: typed errors that write nothing, waits, queries, CLI."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from click.testing import CliRunner
from pydantic import BaseModel

import continuum
from continuum.cli.worker_commands import runs_group
from continuum.client import Client
from continuum.errors import (
    ConfigurationError,
    PayloadError,
    ResultTimeout,
    RunNotFound,
    RunTerminal,
    WorkflowContextError,
)
from continuum.runtime.worker import Worker
from continuum.testing import WorkflowEnvironment


class Greeting(BaseModel):
    text: str


@continuum.workflow(name="client.greet")
def greet(name: str) -> Greeting:
    who = continuum.wait_signal("who")
    return Greeting(text=f"hello {name} from {who}")


@continuum.workflow(name="client.countdown")
def countdown(n: int) -> int:
    if n > 0:
        continuum.continue_as_new(n - 1)
    return 42


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"c-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _counts(dsn: str) -> tuple[int, int, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM continuum_runs), (SELECT count(*) FROM continuum_events),"
            " (SELECT count(*) FROM continuum_signals)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def test_signal_to_unknown_run_raises_run_not_found_and_writes_nothing(
    client: Client, pg_dsn: str
) -> None:
    before = _counts(pg_dsn)
    with pytest.raises(RunNotFound):
        client.signal("no-such-run", "who", "me")
    assert _counts(pg_dsn) == before


def test_malformed_payloads_raise_payload_error_and_write_nothing(
    client: Client, pg_dsn: str
) -> None:
    run_id = client.start(greet, "ada")
    before = _counts(pg_dsn)
    with pytest.raises(PayloadError):
        client.signal(run_id, "who", object())
    with pytest.raises(PayloadError):
        client.signal(run_id, "who", float("nan"))
    with pytest.raises(PayloadError):
        client.start(greet, {1, 2})
    with pytest.raises(PayloadError):
        client.start(greet, "x", attributes={"k": object()})
    assert _counts(pg_dsn) == before


def test_result_timeout_raises_timeout_error(client: Client) -> None:
    run_id = client.start(greet, "nobody")  # no worker: it never finishes
    with pytest.raises(TimeoutError) as info:
        client.result(run_id, timeout=0.3)
    assert isinstance(info.value, ResultTimeout)


def test_result_decodes_to_the_workflow_type_and_terminal_runs_refuse_signals(
    client: Client,
) -> None:
    with Worker(client, workflows=[greet], poll_interval=0.5):
        run_id = client.start(greet, "ada", id="greet-1")
        client.signal(run_id, "who", "bob")
        assert client.result(run_id, timeout=20) == Greeting(text="hello ada from bob")
    with pytest.raises(RunTerminal):
        client.signal(run_id, "who", "again")
    with pytest.raises(RunTerminal):
        client.cancel(run_id)


def test_result_follows_continue_as_new_to_the_tip(client: Client) -> None:
    with Worker(client, workflows=[countdown], poll_interval=0.5):
        run_id = client.start(countdown, 3)
        assert client.result(run_id, timeout=20) == 42
    info = client.get_run(run_id)
    assert info.continued_to_run_id is not None


def test_cancel_makes_the_run_cancelled(client: Client) -> None:
    run_id = client.start(greet, "x")
    assert client.cancel(run_id).state == continuum.RunState.CANCELLED
    with pytest.raises(continuum.RunCancelled):
        client.result(run_id, timeout=5)


def test_query_and_set_attributes(client: Client) -> None:
    a = client.start(greet, "a", attributes={"plan": "pro"}, namespace="billing")
    client.start(greet, "b", attributes={"plan": "free"}, namespace="billing")
    client.set_attributes(a, {"tier": "gold"})
    page = client.query("billing", where=[("eq", ("attributes", "plan"), "pro")])
    assert [r.id for r in page.runs] == [a]
    assert page.runs[0].attributes == {"plan": "pro", "tier": "gold"}
    assert page.next_cursor is None


def test_explicit_dsn_without_schema_asks_for_migrate(empty_db: str) -> None:
    with Client(empty_db) as c, pytest.raises(ConfigurationError, match="continuum migrate"):
        c.get_run("x")


def test_client_calls_inside_a_workflow_are_refused(client: Client) -> None:
    @continuum.workflow(name="client.naughty")
    def naughty() -> str:
        client.start(greet, "inner")
        return "unreachable"

    env = WorkflowEnvironment(workflows=[naughty])
    run_id = env.start(naughty)
    with pytest.raises(continuum.RunFailed) as info:
        env.result(run_id)
    assert info.value.error["type"].endswith(WorkflowContextError.__name__)


def test_runs_cli_show_list_signal_cancel(client: Client, pg_dsn: str) -> None:
    runner = CliRunner()
    run_id = client.start(greet, "cli", id="cli-run")
    shown = runner.invoke(runs_group, ["show", run_id, "--dsn", pg_dsn, "--format", "json"])
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.output)
    assert data["id"] == run_id and data["state"] == "running" and data["events"] == []
    listed = runner.invoke(runs_group, ["list", "--dsn", pg_dsn, "--format", "json"])
    assert [r["id"] for r in json.loads(listed.output)["runs"]] == [run_id]
    sent = runner.invoke(runs_group, ["signal", run_id, "who", '"cli"', "--dsn", pg_dsn])
    assert sent.exit_code == 0, sent.output
    cancelled = runner.invoke(runs_group, ["cancel", run_id, "--dsn", pg_dsn])
    assert cancelled.exit_code == 0 and "cancelled" in cancelled.output


@pytest.mark.parametrize(
    "args",
    [
        ["show", "missing"],
        ["cancel", "missing"],
        ["signal", "missing", "who", "1"],
        ["signal", "cli-run", "who", "{not json"],
    ],
)
def test_runs_cli_errors_are_one_line_without_traceback(
    client: Client, pg_dsn: str, args: list[str]
) -> None:
    client.start(greet, "cli", id="cli-run")
    result = CliRunner().invoke(runs_group, [*args, "--dsn", pg_dsn])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
