"""Activity context on a real worker: activity_info, heartbeats, heartbeat details."""

from __future__ import annotations

import asyncio
import itertools
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

SEEN: dict[str, Any] = {}
FAST = continuum.Backoff(initial=seconds(0.01))


@continuum.activity
def who_am_i(tag: str) -> dict[str, Any]:
    info = continuum.activity_info()
    SEEN[tag] = info
    return {"attempt": info.attempt, "activity": info.activity}


@continuum.activity
async def who_am_i_async(tag: str) -> int:
    await asyncio.sleep(0)
    info = continuum.activity_info()
    SEEN[tag] = info
    return info.attempt


@continuum.activity(local=True)
def who_am_i_local(tag: str) -> int:
    SEEN[tag] = continuum.activity_info()
    continuum.heartbeat("ignored")  # a local activity has no task lease: a no-op
    return 1


@continuum.workflow
def introspect(tag: str) -> list[Any]:
    return [
        continuum.execute(who_am_i, tag),
        continuum.execute(who_am_i_async, tag + "-async"),
        continuum.execute(who_am_i_local, tag + "-local"),
    ]


@continuum.activity(max_attempts=3, backoff=FAST)
def resumes(tag: str) -> Any:
    """Attempt 1 records progress and fails; later attempts read where it got to."""
    info = continuum.activity_info()
    start = continuum.heartbeat_details()
    SEEN.setdefault(tag, []).append((info.attempt, start))
    if info.attempt == 1:
        for page in range(1, 4):
            continuum.heartbeat({"page": page})
        raise RuntimeError("lost the connection at page 3")
    return start


@continuum.workflow
def resuming(tag: str) -> Any:
    return continuum.execute(resumes, tag)


@continuum.activity
def chatty(n: int) -> int:
    """Heartbeats far more often than once a second."""
    for i in range(n):
        continuum.heartbeat(i)
        time.sleep(0.005)
    return n


@continuum.workflow
def chatter(n: int) -> int:
    return continuum.execute(chatty, n)


FLOWS = [introspect, resuming, chatter]


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c


@pytest.fixture
def worker(client: Client) -> Iterator[Worker]:
    SEEN.clear()
    with Worker(client, workflows=FLOWS, poll_interval=0.5) as w:
        yield w


def test_activity_info_in_sync_async_and_local_activities(client: Client, worker: Worker) -> None:
    run_id = client.start(introspect, "t1")
    out = client.result(run_id, timeout=30)
    assert out == [{"attempt": 1, "activity": who_am_i.name}, 1, 1]
    sync, async_, local = SEEN["t1"], SEEN["t1-async"], SEEN["t1-local"]
    for info, act in ((sync, who_am_i), (async_, who_am_i_async)):
        assert info.run_id == run_id
        assert info.activity == act.name
        assert info.attempt == 1
        assert isinstance(info.task_id, int)
        assert info.task_token and str(info.task_id) in info.task_token
        assert info.started_at.tzinfo is not None
        assert not info.local
    assert sync.task_id != async_.task_id
    assert local.local and local.task_id is None and local.task_token is None
    assert local.run_id == run_id


def test_activity_api_outside_an_activity_raises_a_typed_error() -> None:
    for call in (
        continuum.activity_info,
        continuum.heartbeat,
        continuum.heartbeat_details,
    ):
        with pytest.raises(continuum.ActivityContextError, match="outside an activity"):
            call()


def test_heartbeat_details_reach_the_next_attempt(client: Client, worker: Worker) -> None:
    run_id = client.start(resuming, "r1")
    assert client.result(run_id, timeout=30) == {"page": 3}
    assert SEEN["r1"] == [(1, None), (2, {"page": 3})]


def test_heartbeat_rejects_non_json_details(client: Client, worker: Worker) -> None:
    @continuum.activity(name="tests.bad_details")
    def bad_details() -> str:
        try:
            continuum.heartbeat(object())
        except continuum.PayloadError as exc:
            return f"PayloadError: {'heartbeat details' in str(exc)}"
        return "accepted"

    @continuum.workflow(name="tests.bad_details_flow")
    def flow() -> str:
        return continuum.execute(bad_details)

    with Worker(client, workflows=[flow], activities=[bad_details], poll_interval=0.5):
        assert client.result(client.start(flow), timeout=30) == "PayloadError: True"


def test_heartbeats_are_coalesced_to_one_write_per_second(client: Client, worker: Worker) -> None:
    writes: list[tuple[float, Any]] = []
    real = worker.journal.heartbeat_task
    lock = threading.Lock()

    def counting(lease: Any, extend: Any = None, **kw: Any) -> bool:
        if kw.get("beat"):
            with lock:
                writes.append((time.monotonic(), kw.get("details")))
        return real(lease, extend, **kw)

    worker.journal.heartbeat_task = counting  # type: ignore[method-assign]
    started = time.monotonic()
    assert client.result(client.start(chatter, 300), timeout=30) == 300
    elapsed = time.monotonic() - started
    # ~300 calls over ~1.5-3 s: one write per full second at most.
    assert 1 <= len(writes) <= int(elapsed) + 1
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(writes)]
    assert all(g >= 0.9 for g in gaps)  # (timestamps taken just after each write starts)
    details = [d for _, d in writes]
    assert details == sorted(details) and details[-1] < 300
