"""Schedules and queues across worker processes (SPEC §14, §15).

- 4 worker processes, one SIGKILLed (and replaced) every few seconds, an ``every=1 s``
  schedule for 60 s: no tick starts twice and, once the first worker is live, no tick
  is missing.
- 2 worker processes of 4 run threads each, 500 runs on a queue of concurrency 3: a
  sampler reading the database continuously never sees more than 3 started-and-not-
  finished runs of the queue.
"""

from __future__ import annotations

import importlib
import random
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType

import psycopg
import pytest
from chaos_support import Workers, wait_until

from continuum import seconds
from continuum.client import Client

pytestmark = [pytest.mark.slow]

FLOWS = """
import time
import continuum

@continuum.activity
def nap(n: int) -> int:
    time.sleep(0.01)
    return n

@continuum.workflow(name="chaos.tick")
def tick(n: int) -> int:
    return n

@continuum.workflow(name="chaos.queued")
def queued(n: int) -> int:
    return continuum.execute(nap, n)
"""


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"c-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _load(workers: Workers) -> tuple[str, ModuleType]:
    name = workers.write_module(FLOWS)
    sys.path.insert(0, str(workers.tmp_path))
    try:
        return name, importlib.import_module(name)
    finally:
        sys.path.remove(str(workers.tmp_path))


def _scalar(dsn: str, query: str, *params: object) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(query, params).fetchone()  # type: ignore[arg-type]
    assert row is not None
    return int(row[0])


def _tick_of(run_id: str) -> datetime:
    return datetime.strptime(run_id.split("@", 1)[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def test_every_tick_starts_exactly_once_while_workers_are_killed(
    client: Client, workers: Workers
) -> None:
    module, mod = _load(workers)
    procs = [workers.spawn(module) for _ in range(4)]
    wait_until(
        lambda: _scalar(client.dsn, "SELECT count(*) FROM continuum_workers") >= 1,
        timeout=60,
        what="a live worker",
    )
    client.schedule("hb", mod.tick, 7, every=seconds(1), overlap="allow")
    rng = random.Random(15)
    end = time.monotonic() + 60
    kills = 0
    while time.monotonic() < end:
        time.sleep(rng.uniform(2.0, 4.0))
        victim = rng.randrange(len(procs))
        workers.kill(procs[victim])
        kills += 1
        procs[victim] = workers.spawn(module)
    client.pause_schedule("hb")
    with psycopg.connect(client.dsn) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM continuum_runs WHERE id LIKE 'hb@%'")]
    ticks = sorted(_tick_of(i) for i in ids)
    assert kills >= 10
    assert len(ticks) == len(set(ticks)), "a tick started twice"
    expected = int((ticks[-1] - ticks[0]).total_seconds()) + 1
    missing = sorted({ticks[0] + timedelta(seconds=k) for k in range(expected)} - set(ticks))
    assert not missing, f"ticks lost: {missing[:10]} ({workers.logs()[-3000:]})"
    assert len(ticks) >= 55


def test_queue_concurrency_holds_across_two_worker_processes(
    client: Client, workers: Workers
) -> None:
    module, mod = _load(workers)
    client.configure_queue("fragile", concurrency=3)
    ids = [client.start(mod.queued, i, queue="fragile") for i in range(500)]
    for _ in range(2):
        workers.spawn(module, "--max-runs", "4")
    samples: list[int] = []
    done = threading.Event()

    def sample() -> None:
        with psycopg.connect(client.dsn, autocommit=True) as conn:
            while not done.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM continuum_runs WHERE queue = 'fragile'"
                    " AND state IN ('running', 'suspended')"
                ).fetchone()
                assert row is not None
                samples.append(int(row[0]))
                time.sleep(0.002)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        wait_until(
            lambda: (
                _scalar(
                    client.dsn,
                    "SELECT count(*) FROM continuum_runs WHERE queue = 'fragile'"
                    " AND state = 'completed'",
                )
                == len(ids)
            ),
            timeout=240,
            what="500 queued runs to complete",
        )
    finally:
        done.set()
        sampler.join(10)
    assert len(samples) > 100
    assert max(samples) <= 3, f"concurrency exceeded: {max(samples)}"
    assert max(samples) == 3  # the limit was actually reached, so the check means something
