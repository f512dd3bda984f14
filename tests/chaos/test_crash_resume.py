"""A worker process SIGKILLed mid-flight: the run resumes elsewhere, side effects once."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from chaos_support import Workers, wait_until

from continuum.client import Client

FLOWS = """
import os, time
import continuum
from continuum import seconds

LOG = {log!r}
SLOW = os.environ.get("CHAOS_SLOW") == "1"

def _append(line):
    with open(LOG, "a") as f:
        f.write(line + "\\n")
        f.flush()
        os.fsync(f.fileno())

@continuum.activity(max_attempts=1)
def step(run: str, i: int) -> int:
    _append(f"{{run}}:{{i}}:{{os.getpid()}}:{{time.time()}}")
    if i == 3 and SLOW:
        time.sleep(120)
    return i

@continuum.activity(max_attempts=2, backoff=continuum.Backoff(initial=seconds(0.01)))
def retried(run: str, i: int) -> int:
    _append(f"{{run}}:{{i}}:{{os.getpid()}}:{{time.time()}}")
    if i == 3 and SLOW:
        time.sleep(120)
    return i

@continuum.workflow(name="chaos.five_steps")
def five_steps(run: str) -> list[str]:
    out = []
    for i in range(1, 6):
        try:
            continuum.execute(step, run, i)
            out.append(f"ok{{i}}")
        except continuum.ActivityFailed as exc:
            out.append(f"failed{{i}}:{{exc.error_type}}")
    return out

@continuum.workflow(name="chaos.retried_steps")
def retried_steps(run: str) -> list[int]:
    return [continuum.execute(retried, run, i) for i in range(1, 5)]
"""


@pytest.fixture
def log(tmp_path: Path) -> Path:
    return tmp_path / "effects.log"


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"c-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _lines(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [line.split(":") for line in log.read_text().splitlines() if line]


def _registered_workers(client: Client) -> int:
    with psycopg.connect(client.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM continuum_workers").fetchone()
    return int(row[0]) if row else 0


def _start(client: Client, workers: Workers, log: Path, workflow: str, run_id: str) -> str:
    module = workers.write_module(FLOWS.format(log=str(log)))
    import importlib
    import sys

    sys.path.insert(0, str(workers.tmp_path))
    try:
        mod = importlib.import_module(module)
    finally:
        sys.path.remove(str(workers.tmp_path))
    client.start(getattr(mod, workflow), run_id, id=run_id)
    return module


def test_sigkill_mid_activity_resumes_with_each_side_effect_once(
    client: Client, workers: Workers, log: Path
) -> None:
    module = _start(client, workers, log, "five_steps", "r1")
    first = workers.spawn(module, env={"CHAOS_SLOW": "1"})
    wait_until(lambda: any(p[1] == "3" for p in _lines(log)), 60, "step 3 to start")
    workers.kill(first)
    workers.spawn(module)

    result = client.result("r1", timeout=60)

    assert result[:2] == ["ok1", "ok2"]
    assert result[2].startswith("failed3:")  # max_attempts=1: the crashed attempt counted
    assert result[3:] == ["ok4", "ok5"]
    steps = [p[1] for p in _lines(log)]
    assert sorted(steps) == ["1", "2", "3", "4", "5"], steps  # each side effect once
    events = [e["type"] for e in client.history("r1")]
    assert events.count("run_completed") == 1
    failed = [e for e in client.history("r1") if e["type"] == "activity_failed"]
    assert failed[0]["data"]["error"]["code"] == "attempts_exhausted"


def test_dead_worker_task_is_taken_over_within_the_bound(
    client: Client, workers: Workers, log: Path
) -> None:
    module = _start(client, workers, log, "retried_steps", "r2")
    victim = workers.spawn(module, env={"CHAOS_SLOW": "1"})
    wait_until(lambda: any(p[1] == "3" for p in _lines(log)), 60, "step 3 to start")
    workers.spawn(module)  # the survivor is up (and heartbeating) before the kill
    wait_until(lambda: _registered_workers(client) == 2, 60, "the survivor to register")
    killed_at_wall = time.time()
    workers.kill(victim)

    assert client.result("r2", timeout=60) == [1, 2, 3, 4]
    third = [p for p in _lines(log) if p[1] == "3"]
    assert len(third) == 2  # the lost attempt, then the takeover
    takeover_s = float(third[1][3]) - killed_at_wall
    print(f"dead-worker takeover: {takeover_s:.2f}s")
    # The requirement is <= 5 s (see bench/latency.py); CI machines get slack.
    assert takeover_s <= 10.0
