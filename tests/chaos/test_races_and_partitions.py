"""Workers racing for the same runs, connections killed under a run, a partitioned owner."""

from __future__ import annotations

import importlib
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from chaos_support import Workers, wait_until

import continuum
from continuum import seconds, telemetry
from continuum.client import Client
from continuum.runtime.worker import Worker

RACE_FLOWS = """
import os
import continuum

LOG = {log!r}

@continuum.activity
def effect(run: str, i: int) -> int:
    with open(LOG, "a") as f:
        f.write(f"{{run}}:{{i}}:{{os.getpid()}}\\n")
    return i

@continuum.workflow(name="chaos.three_effects")
def three_effects(run: str) -> int:
    return sum(continuum.execute(effect, run, i) for i in range(3))
"""


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"c-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _import(workers: Workers, module: str) -> Any:
    sys.path.insert(0, str(workers.tmp_path))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.remove(str(workers.tmp_path))


def test_two_worker_processes_racing_complete_each_run_exactly_once(
    client: Client, workers: Workers, tmp_path: Path
) -> None:
    log = tmp_path / "effects.log"
    module = workers.write_module(RACE_FLOWS.format(log=str(log)))
    flow = _import(workers, module).three_effects
    run_ids = [client.start(flow, f"run{i}", id=f"run{i}") for i in range(50)]
    workers.spawn(module, "--max-runs", "4", "--max-activities", "4")
    workers.spawn(module, "--max-runs", "4", "--max-activities", "4")

    assert [client.result(r, timeout=120) for r in run_ids] == [3] * 50

    lines = log.read_text().splitlines()
    effects = Counter(":".join(line.split(":")[:2]) for line in lines)
    assert len(effects) == 150 and set(effects.values()) == {1}, effects.most_common(3)
    for run_id in run_ids:
        types = [e["type"] for e in client.history(run_id)]
        assert types.count("run_completed") == 1
        assert types.count("activity_completed") == 3
    print("activities per worker pid:", Counter(line.split(":")[2] for line in lines))


GATE = threading.Event()
ATTEMPTS: list[int] = []


@continuum.activity
def wait_for_gate() -> str:
    GATE.wait(20)
    return "through"


@continuum.workflow(name="chaos.gated")
def gated() -> str:
    first = continuum.execute(wait_for_gate)
    continuum.sleep(seconds(0.1))
    return first + "+slept"


def _terminate_worker_backends(dsn: str) -> int:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (application_name LIKE 'continuum-worker%%' "
            "     OR application_name LIKE 'continuum-listener%%')"
        ).fetchone()
    return int(row[0]) if row else 0


def test_connections_terminated_mid_run_the_run_still_completes(pg_dsn: str) -> None:
    GATE.clear()
    with (
        Client(pg_dsn, instance=f"k-{uuid.uuid4().hex[:8]}") as client,
        Worker(client, workflows=[gated], poll_interval=0.5) as worker,
    ):
        run_id = client.start(gated)
        wait_until(lambda: worker.activities.inflight == 1, 20, "the activity to start")
        killed = _terminate_worker_backends(pg_dsn)
        assert killed >= 2  # at least the worker's pool and its LISTEN connection
        GATE.set()
        assert client.result(run_id, timeout=60) == "through+slept"
        wait_until(lambda: worker.router.connects >= 2, 20, "the signal router to reconnect")
        # The killed activation/commit never failed the run.
        assert client.get_run(run_id).state == continuum.RunState.COMPLETED


TAKEOVER_GATE = threading.Event()
BODY_CALLS: list[str] = []


@continuum.activity(max_attempts=2, backoff=continuum.Backoff(initial=seconds(0.01)))
def first_attempt_hangs() -> str:
    BODY_CALLS.append(threading.current_thread().name)
    if len(BODY_CALLS) == 1:
        TAKEOVER_GATE.wait(30)
        return "stale"
    return "fresh"


@continuum.workflow(name="chaos.partitioned")
def partitioned() -> str:
    return continuum.execute(first_attempt_hangs)


def test_live_but_partitioned_owner_is_fenced_out(pg_dsn: str) -> None:
    TAKEOVER_GATE.clear()
    BODY_CALLS.clear()
    fenced: list[dict[str, Any]] = []
    handler = telemetry.attach("activity.fenced", lambda _e, meta: fenced.append(meta))
    try:
        with Client(pg_dsn, instance=f"p-{uuid.uuid4().hex[:8]}") as client:
            # Worker A stops heartbeating its registry row after the first beat: to its
            # peers it looks dead, yet it is alive and will try to finish its attempt.
            a = Worker(client, workflows=[partitioned], heartbeat_interval=3600, poll_interval=0.5)
            with a:
                run_id = client.start(partitioned)
                wait_until(lambda: len(BODY_CALLS) == 1, 20, "A to start the attempt")
                started = time.monotonic()
                b = Worker(client, workflows=[partitioned], poll_interval=0.5)
                with b:
                    assert client.result(run_id, timeout=60) == "fresh"
                    took = time.monotonic() - started
                    TAKEOVER_GATE.set()  # A's zombie attempt now tries to finish
                    wait_until(lambda: len(fenced) == 1, 20, "A's finish to be fenced")
            history = client.history(run_id)
    finally:
        telemetry.detach(handler)
        TAKEOVER_GATE.set()
    assert fenced[0]["attempt"] == 1 and fenced[0]["instance"] == a.instance_name
    completed = [e for e in history if e["type"] == "activity_completed"]
    assert len(completed) == 1 and completed[0]["data"]["result"] == "fresh"
    assert took <= 10.0
