"""Asynchronous completion: complete_later(), Client.complete_activity / fail_activity."""

from __future__ import annotations

import queue
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import continuum
from continuum import seconds
from continuum.client import Client
from continuum.runtime.worker import Worker

TOKENS: queue.Queue[tuple[int, str]] = queue.Queue()


class Rejected(Exception):
    """The external system said no for good."""


@continuum.activity(max_attempts=2, backoff=continuum.Backoff(initial=seconds(0.01)))
def ask_a_human(question: str) -> str:
    info = continuum.activity_info()
    assert info.task_token is not None
    TOKENS.put((info.attempt, info.task_token))
    return continuum.complete_later()  # type: ignore[no-any-return]


@continuum.activity(non_retryable=(Rejected,), max_attempts=5)
def ask_once(question: str) -> str:
    info = continuum.activity_info()
    assert info.task_token is not None
    TOKENS.put((info.attempt, info.task_token))
    return continuum.complete_later()  # type: ignore[no-any-return]


@continuum.activity(max_attempts=2, timeout=seconds(1))
def ask_with_deadline(question: str) -> str:
    info = continuum.activity_info()
    assert info.task_token is not None
    TOKENS.put((info.attempt, info.task_token))
    return continuum.complete_later()  # type: ignore[no-any-return]


@continuum.workflow
def approval(question: str) -> Any:
    try:
        return continuum.execute(ask_a_human, question)
    except continuum.ActivityFailed as exc:
        return {"failed": exc.error_type, "message": exc.error_message, "attempts": exc.attempts}


@continuum.workflow
def approval_once(question: str) -> Any:
    try:
        return continuum.execute(ask_once, question)
    except continuum.ActivityFailed as exc:
        return {"failed": exc.error_type, "attempts": exc.attempts}


@continuum.workflow
def approval_deadline(question: str) -> Any:
    return continuum.execute(ask_with_deadline, question)


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    while not TOKENS.empty():
        TOKENS.get_nowait()
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c


@pytest.fixture
def worker(client: Client) -> Iterator[Worker]:
    flows = [approval, approval_once, approval_deadline]
    with Worker(client, workflows=flows, poll_interval=0.5) as w:
        yield w


def _task_row(dsn: str, token: str) -> tuple[Any, ...]:
    task_id = int(token.split(".")[1])
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT state, attempt, result, error FROM continuum_activity_tasks WHERE id = %s",
            (task_id,),
        ).fetchone()
    assert row is not None
    return tuple(row)


def test_complete_activity_finishes_the_attempt(
    client: Client, worker: Worker, pg_dsn: str
) -> None:
    run_id = client.start(approval, "ship it?")
    attempt, token = TOKENS.get(timeout=20)
    assert attempt == 1
    time.sleep(0.3)
    assert client.get_run(run_id).state != continuum.RunState.COMPLETED  # still waiting
    client.complete_activity(token, "yes")
    assert client.result(run_id, timeout=20) == "yes"
    # The token is spent: a second completion is stale, is told so, and writes nothing.
    before = _task_row(pg_dsn, token)
    with pytest.raises(continuum.StaleTaskToken, match="nothing was written"):
        client.complete_activity(token, "no")
    with pytest.raises(continuum.StaleTaskToken):
        client.fail_activity(token, "too late")
    assert _task_row(pg_dsn, token) == before


def test_fail_activity_retries_then_fails_with_the_error_type(
    client: Client, worker: Worker, pg_dsn: str
) -> None:
    run_id = client.start(approval, "ship it?")
    _, first = TOKENS.get(timeout=20)
    client.fail_activity(first, RuntimeError("reviewer unavailable"))
    attempt, second = TOKENS.get(timeout=20)  # attempt 2 under a new token
    assert attempt == 2 and second != first
    with pytest.raises(continuum.StaleTaskToken):
        client.complete_activity(first, "from the stale attempt")
    client.fail_activity(second, {"type": "Rejected", "message": "no"})
    assert client.result(run_id, timeout=20) == {
        "failed": "Rejected",
        "message": "no",
        "attempts": 2,
    }


def test_fail_activity_with_a_non_retryable_exception_fails_at_once(
    client: Client, worker: Worker
) -> None:
    run_id = client.start(approval_once, "q")
    _, token = TOKENS.get(timeout=20)
    client.fail_activity(token, Rejected("never"))
    out = client.result(run_id, timeout=20)
    assert out == {"failed": f"{Rejected.__module__}.Rejected", "attempts": 1}


def test_an_attempt_not_completed_within_its_timeout_is_retried(
    client: Client, worker: Worker
) -> None:
    run_id = client.start(approval_deadline, "q")
    _, first = TOKENS.get(timeout=20)
    attempt, second = TOKENS.get(timeout=20)  # retried after the 1 s timeout ran out
    assert attempt == 2
    with pytest.raises(continuum.StaleTaskToken):
        client.complete_activity(first, "late")
    client.complete_activity(second, "on time")
    assert client.result(run_id, timeout=20) == "on time"


def test_bad_tokens_and_results_are_rejected_before_writing(
    client: Client, worker: Worker, pg_dsn: str
) -> None:
    for bad in ("", "nonsense", "ct1.x.1.2", "ct1.1.1", 42):
        with pytest.raises(continuum.TaskTokenError, match="not a task token"):
            client.complete_activity(bad, 1)  # type: ignore[arg-type]
    with pytest.raises(continuum.StaleTaskToken):
        client.complete_activity("ct1.999999.1.1", 1)  # no such task
    run_id = client.start(approval, "q")
    _, token = TOKENS.get(timeout=20)
    with pytest.raises(continuum.PayloadError):
        client.complete_activity(token, object())
    with pytest.raises(continuum.PayloadError):
        client.fail_activity(token, 3.5)  # type: ignore[arg-type]
    with pytest.raises(continuum.PayloadError):
        client.fail_activity(token, "a NUL \x00 jsonb cannot store")
    assert _task_row(pg_dsn, token)[0] == "leased"  # untouched
    client.complete_activity(token, "fine")
    assert client.result(run_id, timeout=20) == "fine"


def test_a_cancelled_runs_token_is_stale(client: Client, worker: Worker) -> None:
    run_id = client.start(approval, "q")
    _, token = TOKENS.get(timeout=20)
    client.cancel(run_id)
    with pytest.raises(continuum.StaleTaskToken):
        client.complete_activity(token, "after the cancel")


def test_async_client_completes_and_fails_by_token(client: Client, worker: Worker) -> None:
    import asyncio

    run_id = client.start(approval, "async?")
    _, first = TOKENS.get(timeout=20)

    async def finish() -> None:
        async with continuum.AsyncClient(client.dsn) as aclient:
            await aclient.fail_activity(first, RuntimeError("retry please"))
            with pytest.raises(continuum.StaleTaskToken):
                await aclient.complete_activity(first, "stale")
            with pytest.raises(continuum.TaskTokenError):
                await aclient.complete_activity("nonsense", 1)
            _, second = await asyncio.to_thread(TOKENS.get, True, 20)
            await aclient.complete_activity(second, "yes, async")

    asyncio.run(finish())
    assert client.result(run_id, timeout=20) == "yes, async"
