"""``continuum demo`` as a user meets it: from any folder, narrated in journal order,
and a second run reports the finished run instead of starting again."""

from __future__ import annotations

import os
from pathlib import Path

from click.testing import CliRunner

from continuum.cli.main import cli
from continuum.client import Client
from continuum.examples.orders import activities


def _demo(pg_dsn: str, cwd: Path) -> str:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(cli, ["demo", "--dsn", pg_dsn, "--timeout", "60"])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.output


def test_demo_narrates_in_journal_order_from_an_empty_folder(pg_dsn: str, tmp_path: Path) -> None:
    out = _demo(pg_dsn, tmp_path)
    order = [
        "workflow started",
        "[warehouse] reserved",
        "activity finished: reserve_stock",
        "[payments] charged",
        "the fraud team approves",
        "signal received: fraud_review",
        "timer fired",
        "[shipping] shipped",
        "activity finished: ship",
        "workflow completed",
        '"status":"shipped"',
    ]
    positions = [out.index(step) for step in order]
    assert positions == sorted(positions), out
    assert activities.say is activities._print  # the demo puts the printer back


def test_demo_runs_on_the_shipped_frozen_version(pg_dsn: str, tmp_path: Path) -> None:
    _demo(pg_dsn, tmp_path)
    with Client(pg_dsn) as client:
        info = client.get_run("demo-order-1001")
        history = client.history("demo-order-1001")
    assert not info.version_hash.startswith("src-"), info.version_hash
    sites = {e["command"]["qualname"] for e in history if e.get("command")}
    assert sites == {"order_flow"}, sites  # the example is user code, not engine frames


def test_second_demo_reports_the_finished_run(pg_dsn: str, tmp_path: Path) -> None:
    _demo(pg_dsn, tmp_path)
    again = _demo(pg_dsn, tmp_path)
    assert "already finished (completed)" in again
    assert "resuming" not in again and "workflow started" not in again
    assert '"status":"shipped"' in again
