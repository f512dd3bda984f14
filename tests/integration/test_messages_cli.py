"""``continuum runs events`` and ``continuum runs update`` against a real worker."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

import continuum
from continuum.cli.main import cli
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow(name="it.cli.counter")
def cli_counter(_: None) -> int:
    total = 0
    continuum.set_event("total", total)
    while True:
        upd = continuum.wait_update("add")
        if not isinstance(upd.payload, int):
            continuum.reject(upd, f"cannot add {upd.payload!r}")
            continue
        total += upd.payload
        continuum.set_event("total", total)
        continuum.reply(upd, total)
        if total >= 10:
            return total


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with (
        Client(pg_dsn, instance=f"cli-{uuid.uuid4().hex[:8]}") as c,
        Worker(c, workflows=[cli_counter], poll_interval=0.5),
    ):
        yield c


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), standalone_mode=False, catch_exceptions=True)
    code = result.exit_code
    if isinstance(result.exception, SystemExit):
        code = int(result.exception.code or 0)
    elif result.exception is not None and not isinstance(result.exception, SystemExit):
        code = getattr(result.exception, "exit_code", 1)
    return code, result.output


def test_runs_update_and_events(client: Client, pg_dsn: str) -> None:
    run_id = client.start(cli_counter, None)
    assert client.get_event(run_id, "total", timeout=30) == 0

    code, out = _run("runs", "update", run_id, "add", "4", "--dsn", pg_dsn)
    assert (code, out.strip()) == (0, "4")
    code, out = _run("runs", "update", run_id, "add", "3", "--dsn", pg_dsn, "--format", "json")
    assert code == 0
    assert json.loads(out) == {"run_id": run_id, "update": "add", "reply": 7}

    code, out = _run("runs", "update", run_id, "add", '"x"', "--dsn", pg_dsn, "--format", "json")
    assert code == 1
    assert json.loads(out)["rejected"] == "cannot add 'x'"

    code, out = _run("runs", "events", run_id, "--dsn", pg_dsn)
    assert (code, out.strip()) == (0, "total: 7")
    code, out = _run("runs", "events", run_id, "total", "--dsn", pg_dsn, "--format", "json")
    assert json.loads(out) == {"run_id": run_id, "events": {"total": 7}}


def test_runs_update_bad_input_is_one_line(client: Client, pg_dsn: str) -> None:
    run_id = client.start(cli_counter, None)
    code, _ = _run("runs", "update", run_id, "add", "{not json", "--dsn", pg_dsn)
    assert code == 1
    code, _ = _run("runs", "update", "no-such-run", "add", "1", "--dsn", pg_dsn)
    assert code == 1
    code, _ = _run("runs", "events", run_id, "missing", "--dsn", pg_dsn)
    assert code == 1


def test_cli_errors_print_one_line_without_traceback(pg_dsn: str) -> None:
    from continuum.cli.main import main

    with pytest.raises(SystemExit) as exited:
        main(["runs", "update", "no-such-run", "add", "1", "--dsn", pg_dsn])
    assert exited.value.code == 1
