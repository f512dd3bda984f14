"""Retry policy on a real worker: unlimited attempts, non-retryable errors, error types."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest

import continuum
from continuum import seconds
from continuum.client import Client
from continuum.runtime.worker import Worker

FAST = continuum.Backoff(initial=seconds(0.01), factor=2.0, max=seconds(0.05))
ATTEMPTS: list[int] = []


class InvalidCard(Exception):
    """A failure no retry can fix."""


@continuum.activity(max_attempts=None, backoff=FAST)
def flaky_forever(fail_times: int) -> int:
    attempt = continuum.activity_info().attempt
    ATTEMPTS.append(attempt)
    if attempt <= fail_times:
        raise ConnectionError(f"attempt {attempt} failed")
    return attempt


@continuum.activity(max_attempts=None, backoff=FAST, non_retryable=(InvalidCard,))
def charge(card: str) -> str:
    ATTEMPTS.append(continuum.activity_info().attempt)
    if card == "bad":
        raise InvalidCard(f"card {card} was declined")
    raise ConnectionError("gateway down")  # retryable: retried until the run gives up


@continuum.activity(max_attempts=None, backoff=FAST, non_retryable=(InvalidCard,), local=True)
def charge_local(card: str) -> str:
    ATTEMPTS.append(continuum.activity_info().attempt)
    raise InvalidCard(f"card {card} was declined")


@continuum.workflow
def retries(fail_times: int) -> int:
    return continuum.execute(flaky_forever, fail_times)


@continuum.workflow
def pays(card: str) -> dict[str, object]:
    try:
        continuum.execute(charge_local if card == "local" else charge, card)
    except continuum.ActivityFailed as exc:
        # Branch on the recorded type: the class's qualified name.
        declined = exc.error_type == f"{InvalidCard.__module__}.InvalidCard"
        return {"declined": declined, "attempts": exc.attempts, "type": exc.error_type}
    return {"declined": False}


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    ATTEMPTS.clear()
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c


@pytest.fixture
def worker(client: Client) -> Iterator[Worker]:
    with Worker(client, workflows=[retries, pays], poll_interval=0.5) as w:
        yield w


def test_unlimited_attempts_retry_until_success(client: Client, worker: Worker) -> None:
    run_id = client.start(retries, 6)
    assert client.result(run_id, timeout=30) == 7
    assert ATTEMPTS == [1, 2, 3, 4, 5, 6, 7]
    completed = [e for e in client.history(run_id) if e["type"] == "activity_completed"]
    assert completed[0]["data"]["attempts"] == 7


def test_non_retryable_error_fails_at_once_with_its_type(client: Client, worker: Worker) -> None:
    out = client.result(client.start(pays, "bad"), timeout=30)
    assert out == {
        "declined": True,
        "attempts": 1,
        "type": f"{InvalidCard.__module__}.InvalidCard",
    }
    assert ATTEMPTS == [1]


def test_non_retryable_applies_to_local_activities(client: Client, worker: Worker) -> None:
    out = client.result(client.start(pays, "local"), timeout=30)
    assert out["declined"] is True and out["attempts"] == 1
    assert ATTEMPTS == [1]


def test_bad_retry_options_are_rejected_at_definition() -> None:
    def f() -> None: ...

    for bad in ({"max_attempts": 0}, {"max_attempts": "3"}, {"max_attempts": True}):
        with pytest.raises(continuum.DefinitionError, match="max_attempts"):
            continuum.activity(**bad)(f)  # type: ignore[call-overload]
    with pytest.raises(continuum.DefinitionError, match="non_retryable"):
        continuum.activity(non_retryable=("ValueError",))(f)  # type: ignore[call-overload]
    with pytest.raises(continuum.DefinitionError, match="heartbeat_timeout"):
        continuum.activity(heartbeat_timeout=seconds(0))(f)
    with pytest.raises(continuum.DefinitionError, match="heartbeat_timeout"):
        continuum.activity(heartbeat_timeout=seconds(5), local=True)(f)


def test_backoff_never_overflows_on_high_attempt_numbers(pg_dsn: str) -> None:
    backoff = continuum.Backoff(initial=seconds(1), factor=10.0, max=timedelta(minutes=5))
    assert backoff.delay(1) == seconds(1)
    assert backoff.delay(3) == seconds(100)
    assert backoff.delay(5000) == timedelta(minutes=5)
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT continuum_backoff_ms(%s::jsonb, a) FROM unnest(%s::int[]) AS a",
            ('{"initial_ms": 1000, "factor": 10.0, "max_ms": 300000}', [1, 3, 5000, 100000]),
        ).fetchall()
    assert [r[0] for r in rows] == [1000.0, 100000.0, 300000.0, 300000.0]


@continuum.activity(max_attempts=None, heartbeat_timeout=seconds(30))
def watched(n: int) -> int:
    return n + 1


@continuum.workflow
def watched_flow(n: int) -> int:
    return continuum.execute(watched, n)


def test_fork_reopens_a_task_with_its_unlimited_attempts_and_heartbeat_timeout(
    client: Client,
) -> None:
    with Worker(client, workflows=[watched_flow], poll_interval=0.5):
        client.start(watched_flow, 1, id="w1")
        assert client.result("w1", timeout=30) == 2
        scheduled = next(e for e in client.history("w1") if e["type"] == "activity_scheduled")
        fork_id = client.fork("w1", at_seq=scheduled["seq"], id="w1-fork")
        assert client.result(fork_id, timeout=30) == 2
    with psycopg.connect(client.dsn) as conn:
        row = conn.execute(
            "SELECT max_attempts, heartbeat_timeout_ms FROM continuum_activity_tasks "
            "WHERE run_id = %s",
            (fork_id,),
        ).fetchone()
    assert row == (None, 30_000)
