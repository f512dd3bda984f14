"""Idempotency keys hold under concurrency: runs that execute the same activity with the
same key at the same time run its body once and all get that one result."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

import continuum
from continuum.client import Client
from continuum.runtime.worker import Worker

EXECUTIONS: list[str] = []
_lock = threading.Lock()


@continuum.activity
def capture_payment(order_id: str) -> str:
    with _lock:
        EXECUTIONS.append(order_id)
    time.sleep(1.0)  # long enough for every other run to reach the same key meanwhile
    return f"charge-{uuid.uuid4().hex[:8]}"


@continuum.workflow(name="idem.pay")
def pay(order_id: str) -> str:
    return continuum.execute(capture_payment, order_id, idempotency_key=f"pay:{order_id}")


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    EXECUTIONS.clear()
    with Client(pg_dsn, instance=f"idem-{uuid.uuid4().hex[:8]}") as c:
        yield c


def test_eight_concurrent_runs_with_one_key_execute_the_body_once(
    client: Client, pg_dsn: str
) -> None:
    with Worker(client, workflows=[pay], max_runs=8, max_activities=8, poll_interval=0.2):
        runs = [client.start(pay, "order-7", id=f"pay-{i}") for i in range(8)]
        results = [client.result(r, timeout=60) for r in runs]
    assert EXECUTIONS == ["order-7"]
    assert len(set(results)) == 1 and results[0].startswith("charge-")
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM continuum_activity_results WHERE idempotency_key = 'pay:order-7'"
        ).fetchone()
    assert row == (1,)


def test_two_workers_one_key(client: Client, pg_dsn: str) -> None:
    with (
        Client(pg_dsn, instance=f"idem2-{uuid.uuid4().hex[:8]}") as other,
        Worker(client, workflows=[pay], max_activities=4, poll_interval=0.2),
        Worker(other, workflows=[pay], max_activities=4, poll_interval=0.2),
    ):
        runs = [client.start(pay, "order-9", id=f"pay9-{i}") for i in range(6)]
        results = {client.result(r, timeout=60) for r in runs}
    assert EXECUTIONS == ["order-9"] and len(results) == 1


def test_a_failed_holder_lets_the_next_attempt_run(client: Client) -> None:
    calls: list[int] = []

    @continuum.activity(max_attempts=3, backoff=continuum.Backoff(initial=continuum.seconds(0.05)))
    def flaky(order_id: str) -> str:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("gateway timeout")
        return "ok"

    @continuum.workflow(name="idem.flaky")
    def flaky_flow(order_id: str) -> str:
        return continuum.execute(flaky, order_id, idempotency_key=f"flaky:{order_id}")

    with Worker(client, workflows=[flaky_flow], activities=[flaky], poll_interval=0.2):
        assert client.result(client.start(flaky_flow, "o-1"), timeout=30) == "ok"
    assert len(calls) == 2
