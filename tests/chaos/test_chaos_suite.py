"""The chaos suite of bench/chaos/, at its small (CI) size: every counted invariant 0.

Each script is a standalone command printing JSON (the operations guide quotes their
full-size figures); here each runs with ``--small`` against the test server and its
report is checked. They take 10-60 s each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

CHAOS = Path(__file__).resolve().parents[2] / "bench" / "chaos"
ZERO = ("lost", "duplicate_completions", "over_max_attempts")


def _run(script: str, pg_server_dsn: str, *args: str, own_server: bool = False) -> dict[str, Any]:
    command = [sys.executable, str(CHAOS / script), "--small", *args]
    if not own_server:
        command += ["--dsn", pg_server_dsn]
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=420, env={**os.environ}, check=False
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report: dict[str, Any] = json.loads(proc.stdout)
    return report


def _assert_invariants(report: dict[str, Any]) -> None:
    for key in ZERO:
        assert report[key] == 0, report


@pytest.mark.slow
def test_kill_chaos_random_sigkills(pg_server_dsn: str) -> None:
    report = _run("kill_chaos.py", pg_server_dsn)
    _assert_invariants(report)
    assert report["kills"] == 3 and report["activity_executions"] >= 3 * report["runs"]


@pytest.mark.slow
@pytest.mark.parametrize("point", ["after_side_effect", "after_journal_append", "after_claim"])
def test_kill_chaos_at_named_crash_points(pg_server_dsn: str, point: str) -> None:
    report = _run("kill_chaos.py", pg_server_dsn, "--crash-point", point, "--probability", "0.03")
    _assert_invariants(report)
    assert report["crashes"] >= 1, report  # the crash point was really reached


@pytest.mark.slow
def test_sigstopped_worker(pg_server_dsn: str) -> None:
    report = _run("zombie.py", pg_server_dsn)
    _assert_invariants(report)
    assert report["healthy_heartbeat_age_max_s"] < 3.0, report
    assert report["takeovers"] == 1 and report["takeover_max_s"] < 12.0, report


@pytest.mark.slow
def test_postgres_restarts(pg_server_dsn: str) -> None:
    report = _run("pg_restart.py", pg_server_dsn, own_server=True)
    _assert_invariants(report)
    assert report["workers_alive_at_end"] == 3, report


@pytest.mark.slow
@pytest.mark.parametrize("mode", [(), ("--no-notify",)], ids=["listeners-killed", "no-notify"])
def test_wakes_without_notify_within_the_backstop(pg_server_dsn: str, mode: tuple[str]) -> None:
    report = _run("notify_off.py", pg_server_dsn, *mode)
    _assert_invariants(report)
    assert report["late_wakes"] == 0 and report["listener_sessions_killed"] > 0, report


@pytest.mark.slow
def test_ambiguous_commits(pg_server_dsn: str) -> None:
    report = _run("ambiguous_commit.py", pg_server_dsn)
    _assert_invariants(report)
    assert report["timers_fired_twice"] == 0 and report["connections_dropped"] > 0, report


def test_malformed_input_and_sql_injection(pg_server_dsn: str) -> None:
    report = _run("input_fuzz.py", pg_server_dsn)
    assert report["raw_database_errors"] == 0, report
    assert report["other_errors"] == 0, report
    assert report["injections_executed"] == 0, report
    assert report["typed_errors"] > 0 and report["accepted"] > 0, report


@pytest.mark.slow
def test_idempotency_keys_under_concurrency(pg_server_dsn: str) -> None:
    report = _run("idempotency_race.py", pg_server_dsn)
    _assert_invariants(report)
    assert report["duplicate_idempotent_executions"] == 0, report
    assert report["keys_with_differing_results"] == 0, report
    assert report["keys_executed"] == report["keys"], report
