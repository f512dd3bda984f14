"""Heartbeat timeouts and cancellation into activities, on real workers and Postgres.

- a hung activity (no heartbeat for longer than ``heartbeat_timeout``) is retried on
  another worker within ``heartbeat_timeout + 2 s`` of its last heartbeat;
- a cancelled run's long activity stops within one heartbeat (``ActivityCancelled``);
- an ``async`` activity is cancelled with ``asyncio.CancelledError``;
- a cancelled activity that ignores cancellation is let go after the grace period.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import continuum
from continuum import seconds
from continuum.client import Client
from continuum.runtime.worker import Worker

HT_S = 1.0
EVENTS: dict[str, Any] = {}
RELEASE = threading.Event()
WORKERS: list[Worker] = []


def _mark(name: str, value: Any = None) -> None:
    EVENTS[name] = (time.monotonic(), value)


def _wait_for(name: str, timeout: float = 20.0) -> tuple[float, Any]:
    deadline = time.monotonic() + timeout
    while name not in EVENTS:
        if time.monotonic() > deadline:
            raise AssertionError(f"{name} did not happen within {timeout}s; saw {sorted(EVENTS)}")
        time.sleep(0.01)
    return EVENTS[name]  # type: ignore[no-any-return]


@continuum.activity(heartbeat_timeout=seconds(HT_S), max_attempts=2)
def hangs_once() -> str:
    info = continuum.activity_info()
    if info.attempt == 1:
        continuum.heartbeat("alive")
        _mark("hb1")
        RELEASE.wait(30)  # hung: never heartbeats again
        return "hung attempt"
    key = (info.task_id, info.attempt)
    holders = [w.id for w in WORKERS if key in w.activities._running]
    hung = [w.id for w in WORKERS if (info.task_id, 1) in w.activities._running]
    _mark("attempt2", {"holders": holders, "hung": hung, "details": continuum.heartbeat_details()})
    return "retried"


@continuum.workflow
def hang_flow() -> str:
    return continuum.execute(hangs_once)


@continuum.activity(heartbeat_timeout=seconds(5))
def long_sync(n: int) -> int:
    i = 0
    try:
        while True:
            continuum.heartbeat(i)
            if i == 0:
                _mark("long_started")
            i += 1
            time.sleep(0.05)
    except continuum.ActivityCancelled as exc:
        _mark("long_stopped", str(exc))
        raise


@continuum.workflow
def long_flow(n: int) -> int:
    return continuum.execute(long_sync, n)


@continuum.activity
async def long_async() -> str:
    _mark("async_started")
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        _mark("async_cancelled")
        raise
    return "slept"


@continuum.workflow
def async_flow() -> str:
    return continuum.execute(long_async)


@continuum.activity
def stubborn() -> str:
    _mark("stubborn_started")
    while not RELEASE.wait(0.05):
        try:
            continuum.heartbeat()
        except continuum.ActivityCancelled:
            EVENTS.setdefault("stubborn_told", (time.monotonic(), None))
    return "finally"


@continuum.workflow
def stubborn_flow() -> str:
    return continuum.execute(stubborn)


FLOWS = [hang_flow, long_flow, async_flow, stubborn_flow]


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    EVENTS.clear()
    RELEASE.clear()
    WORKERS.clear()
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c
    RELEASE.set()


def _worker(client: Client, **kw: Any) -> Worker:
    w = Worker(client, workflows=FLOWS, poll_interval=0.5, **kw)
    WORKERS.append(w)
    return w


def test_hung_activity_is_retried_on_another_worker_within_the_heartbeat_timeout(
    client: Client,
) -> None:
    a, b = _worker(client, max_activities=1), _worker(client, max_activities=1)
    with a, b:
        run_id = client.start(hang_flow)
        hb_at, _ = _wait_for("hb1")
        retried_at, seen = _wait_for("attempt2")
        assert client.result(run_id, timeout=20) == "retried"
    assert retried_at - hb_at <= HT_S + 2.0
    # Attempt 2 ran on one worker while the other still held the hung attempt 1.
    assert len(seen["holders"]) == 1 and len(seen["hung"]) == 1
    assert seen["holders"] != seen["hung"]
    assert seen["details"] == "alive"
    failed = [e for e in client.history(run_id) if e["type"] == "activity_completed"]
    assert failed and failed[0]["data"]["attempts"] == 2


def test_cancelled_run_stops_its_long_activity_within_one_heartbeat(client: Client) -> None:
    with _worker(client):
        run_id = client.start(long_flow, 1)
        _wait_for("long_started")
        time.sleep(0.3)
        cancelled_at = time.monotonic()
        client.cancel(run_id)
        stopped_at, message = _wait_for("long_stopped", timeout=10)
        with pytest.raises(continuum.RunCancelled):
            client.result(run_id, timeout=5)
    # Heartbeats are written at most once a second: the next write sees the cancel.
    assert stopped_at - cancelled_at <= 1.5
    assert "cancelled" in message and run_id in message


def test_async_activity_of_a_cancelled_run_gets_cancelled_error(client: Client) -> None:
    with _worker(client):
        run_id = client.start(async_flow)
        _wait_for("async_started")
        cancelled_at = time.monotonic()
        client.cancel(run_id)
        at, _ = _wait_for("async_cancelled", timeout=10)
    # The cancel's NOTIFY reaches the worker at once (no heartbeat needed).
    assert at - cancelled_at <= 1.0


def test_without_the_notify_the_lease_renewal_finds_the_cancel(client: Client) -> None:
    w = _worker(client, lease_ttl=3.0, lease_renew=0.3)
    with w:
        w.router._handlers["continuum_task_cancelled"].clear()  # as if the NOTIFY was lost
        run_id = client.start(async_flow)
        _wait_for("async_started")
        cancelled_at = time.monotonic()
        client.cancel(run_id)
        at, _ = _wait_for("async_cancelled", timeout=10)
    # The worker's lease renewal (every 0.3 s here) finds the task gone.
    assert at - cancelled_at <= 2.0


def test_activity_ignoring_cancellation_is_let_go_after_the_grace(client: Client) -> None:
    w = _worker(client)
    with w:
        w.activities.cancel_grace_s = 0.5
        run_id = client.start(stubborn_flow)
        _wait_for("stubborn_started")
        client.cancel(run_id)
        _wait_for("stubborn_told", timeout=10)
        deadline = time.monotonic() + 10
        while not w.activities.abandoned and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [a["run_id"] for a in w.activities.abandoned] == [run_id]
        assert w.activities.inflight == 0  # the slot is free again
        assert "cancelled" in (w.activities.abandoned[0]["cancel_reason"] or "")
