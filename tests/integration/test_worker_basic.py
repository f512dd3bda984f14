"""A worker against real Postgres: activities, local activities, timers, signals, cancel."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import continuum
from continuum import seconds
from continuum.client import Client
from continuum.runtime.worker import Worker

CALLS: list[str] = []
GATE = threading.Event()


@continuum.activity
def add(a: int, b: int) -> int:
    CALLS.append(f"add:{a}+{b}")
    return a + b


@continuum.activity(local=True, max_attempts=3, backoff=continuum.Backoff(initial=seconds(0.01)))
def local_double(n: int) -> int:
    CALLS.append(f"double:{n}")
    if CALLS.count(f"double:{n}") < 2:
        raise RuntimeError("flaky once")
    return n * 2


@continuum.activity(timeout=seconds(0.3))
def too_slow() -> None:
    GATE.wait(5)


@continuum.activity
def blocked() -> str:
    GATE.wait(10)
    return "done"


@continuum.workflow
def arithmetic(n: int) -> dict[str, Any]:
    s = continuum.execute(add, n, 1)
    d = continuum.execute(local_double, s)
    continuum.sleep(seconds(0.2))
    word = continuum.wait_signal("go")
    return {"sum": s, "double": d, "word": word}


@continuum.workflow
def times_out() -> str:
    try:
        continuum.execute(too_slow)
    except continuum.ActivityFailed as exc:
        return exc.error_type
    return "no timeout"


@continuum.workflow
def waits_on_blocked() -> str:
    return continuum.execute(blocked)


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c


@pytest.fixture
def worker(client: Client) -> Iterator[Worker]:
    GATE.clear()
    w = Worker(client, workflows=[arithmetic, times_out, waits_on_blocked], poll_interval=0.5)
    with w:
        yield w
    GATE.set()


def test_run_completes_with_activities_local_activity_timer_and_signal(
    client: Client, worker: Worker
) -> None:
    run_id = client.start(arithmetic, 20, id="arith-1")
    client.signal(run_id, "go", "yes")
    assert client.result(run_id, timeout=20) == {"sum": 21, "double": 42, "word": "yes"}
    types = [e["type"] for e in client.history(run_id)]
    assert types[0] == "run_started" and types[-1] == "run_completed"
    assert types.count("activity_completed") == 2
    assert CALLS.count("add:20+1") == 1
    info = client.get_run(run_id)
    assert info.state == continuum.RunState.COMPLETED
    assert info.version_hash == arithmetic.version_hash


def test_start_is_idempotent_on_id(client: Client, worker: Worker) -> None:
    first = client.start(arithmetic, 1, id="same")
    second = client.start(arithmetic, 2, id="same")
    assert first == second == "same"
    client.signal("same", "go", "x")
    assert client.result("same", timeout=20)["sum"] == 2


def test_sync_activity_is_abandoned_at_its_timeout(client: Client, worker: Worker) -> None:
    run_id = client.start(times_out)
    assert client.result(run_id, timeout=20) == "TimeoutError"


def test_cancel_during_an_activity_discards_its_outcome(client: Client, worker: Worker) -> None:
    run_id = client.start(waits_on_blocked)
    for _ in range(200):
        if any(e["type"] == "activity_scheduled" for e in client.history(run_id)):
            break
        threading.Event().wait(0.05)
    client.cancel(run_id)
    GATE.set()
    with pytest.raises(continuum.RunCancelled):
        client.result(run_id, timeout=10)
    types = [e["type"] for e in client.history(run_id)]
    assert types[-1] == "run_cancelled"
    assert "activity_completed" not in types
