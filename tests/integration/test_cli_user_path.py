"""What a user hit in the CLI and client: filters, messages that name the operation,
cancel telemetry, progress bars that stay out of JSON."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from rich.console import Console

import continuum
from continuum import telemetry
from continuum.cli.db_commands import migrate_command
from continuum.cli.progress import progress_bar
from continuum.cli.worker_commands import runs_group
from continuum.client import Client
from continuum.errors import RunTerminal
from continuum.testing import WorkflowEnvironment


@continuum.workflow(name="cli.waits")
def waits(tag: str) -> str:
    return str(continuum.wait_signal("go"))


@continuum.workflow(name="cli.other")
def other(tag: str) -> str:
    return str(continuum.wait_signal("go"))


@continuum.workflow(name="cli.parent")
def parent(n: int) -> list[str]:
    refs = [continuum.start_child(waits, f"c{i}", id=f"c{i}") for i in range(n)]
    return [continuum.wait_child(r) for r in refs]


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"cli-{uuid.uuid4().hex[:8]}") as c:
        yield c


@pytest.fixture
def events() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    seen: list[tuple[str, dict[str, Any]]] = []
    handler = telemetry.attach("*", lambda event, meta: seen.append((event, meta)))
    yield seen
    telemetry.detach(handler)


def _list(pg_dsn: str, *args: str) -> dict[str, Any]:
    out = CliRunner().invoke(runs_group, ["list", "--dsn", pg_dsn, "--format", "json", *args])
    assert out.exit_code == 0, out.output
    data: dict[str, Any] = json.loads(out.output)
    return data


def test_runs_list_filters_like_the_query_api(client: Client, pg_dsn: str) -> None:
    client.start(waits, "a", id="w-pro", attributes={"plan": "pro", "seats": 3})
    client.start(waits, "b", id="w-free", attributes={"plan": "free", "seats": 3})
    client.start(other, "c", id="o-pro", attributes={"plan": "pro"})
    client.start(waits, "d", id="w-billing", namespace="billing", attributes={"plan": "pro"})
    ids = lambda data: sorted(r["id"] for r in data["runs"])  # noqa: E731
    assert ids(_list(pg_dsn, "--workflow", "cli.waits")) == ["w-free", "w-pro"]
    assert ids(_list(pg_dsn, "--attr", "plan=pro")) == ["o-pro", "w-pro"]
    assert ids(_list(pg_dsn, "--attr", "plan=pro", "--attr", "seats=3")) == ["w-pro"]
    assert ids(_list(pg_dsn, "--namespace", "billing")) == ["w-billing"]
    assert ids(_list(pg_dsn, "--state", "completed")) == []
    assert ids(_list(pg_dsn, "--state", "running", "--workflow", "cli.other")) == ["o-pro"]


def test_runs_list_pages_with_next_cursor(client: Client, pg_dsn: str) -> None:
    for i in range(5):
        client.start(waits, str(i), id=f"page-{i}")
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        data = _list(pg_dsn, "--limit", "2", *(["--cursor", cursor] if cursor else []))
        seen += [r["id"] for r in data["runs"]]
        cursor = data["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == [f"page-{i}" for i in range(5)] and cursor is None
    bad = CliRunner().invoke(runs_group, ["list", "--dsn", pg_dsn, "--cursor", "garbage"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    assert len(bad.output.strip().splitlines()) == 1, bad.output


def test_runs_list_rejects_an_attr_without_equals(pg_dsn: str) -> None:
    bad = CliRunner().invoke(runs_group, ["list", "--dsn", pg_dsn, "--attr", "plan"])
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.output


def test_cancelling_a_finished_run_says_it_cannot_be_cancelled(client: Client, pg_dsn: str) -> None:
    run_id = client.start(waits, "x", id="done-run")
    client.cancel(run_id)
    client.cancel(run_id)  # cancelling a cancelled run is idempotent
    with continuum.Worker(client, workflows=[waits]):
        finished = client.start(waits, "y", id="finished-run")
        client.signal(finished, "go", "now")
        assert client.result(finished, timeout=30) == "now"
    with pytest.raises(RunTerminal) as err:
        client.cancel(finished)
    assert "cannot cancel" in str(err.value) and err.value.operation == "cancel"
    with pytest.raises(RunTerminal) as err:
        client.signal(finished, "go", 1)
    assert "cannot signal" in str(err.value)
    out = CliRunner().invoke(runs_group, ["cancel", finished, "--dsn", pg_dsn])
    assert out.exit_code == 1
    assert "cannot cancel run 'finished-run'" in out.output and "signals" not in out.output


def test_client_cancel_emits_run_and_child_cancelled(
    client: Client, events: list[tuple[str, dict[str, Any]]]
) -> None:
    with continuum.Worker(client, workflows=[parent, waits]):
        run_id = client.start(parent, 2, id="p")
        for _ in range(200):
            if len(client.query(where=[("eq", "parent_run_id", run_id)]).runs) == 2:
                break
            time.sleep(0.05)
        events.clear()
        client.cancel(run_id)
    cancelled = [(e, m["run_id"]) for e, m in events if e.endswith(".cancelled")]
    assert ("run.cancelled", "p") in cancelled
    assert sorted(r for e, r in cancelled if e == "child.cancelled") == ["p/c0", "p/c1"]
    client.cancel(run_id)  # already cancelled: nothing new to tell
    assert len([e for e, _ in events if e.endswith(".cancelled")]) == len(cancelled)


def test_in_memory_cancel_emits_the_same_events(
    events: list[tuple[str, dict[str, Any]]],
) -> None:
    env = WorkflowEnvironment()
    run_id = env.start(parent, 1, id="mp")
    env.cancel(run_id)
    cancelled = [(e, m["run_id"]) for e, m in events if e.endswith(".cancelled")]
    assert cancelled == [("run.cancelled", "mp"), ("child.cancelled", "mp/c0")]


def test_progress_bar_draws_on_a_terminal_only() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=80)
    with progress_bar("text", console) as progress:
        for done in range(1, 4):
            progress("removing versions", done, 3)
    assert "removing versions" in screen.getvalue() and "3/3" in screen.getvalue()
    quiet = io.StringIO()
    with progress_bar("json", Console(file=quiet, force_terminal=True)) as progress:
        progress("removing versions", 1, 1)
    with progress_bar("text", Console(file=quiet, force_terminal=False)) as progress:
        progress("removing versions", 1, 1)
    assert quiet.getvalue() == ""


def test_migrate_json_output_is_only_json(pg_dsn: str) -> None:
    out = CliRunner().invoke(migrate_command, ["--dsn", pg_dsn, "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["applied"] == []
