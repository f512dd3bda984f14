"""The activity API in the in-memory testing kit and in isolation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import continuum
from continuum import seconds
from continuum.definitions.activity_context import (
    ActivityInfo,
    ActivityScope,
    activity_scope,
    parse_task_token,
    task_token,
)
from continuum.testing import WorkflowEnvironment

SEEN: list[Any] = []


class Fatal(Exception):
    pass


@continuum.activity(max_attempts=None, backoff=continuum.Backoff(initial=seconds(0.001)))
def resumable(n: int) -> Any:
    info = continuum.activity_info()
    SEEN.append((info.attempt, continuum.heartbeat_details()))
    if info.attempt < n:
        continuum.heartbeat({"done": info.attempt})
        raise ConnectionError("again")
    return continuum.heartbeat_details()


@continuum.activity(max_attempts=5, non_retryable=(Fatal,))
def fatal() -> None:
    SEEN.append(continuum.activity_info().attempt)
    raise Fatal("no point retrying")


@continuum.activity
def later() -> str:
    return continuum.complete_later()  # type: ignore[no-any-return]


@continuum.workflow
def resume_flow(n: int) -> Any:
    return continuum.execute(resumable, n)


@continuum.workflow
def fatal_flow() -> str:
    try:
        continuum.execute(fatal)
    except continuum.ActivityFailed as exc:
        return f"{exc.error_type}/{exc.attempts}"
    return "?"


@continuum.workflow
def later_flow() -> str:
    try:
        return continuum.execute(later)
    except continuum.ActivityFailed as exc:
        return exc.error_message


def test_heartbeat_details_and_unlimited_attempts_in_memory() -> None:
    SEEN.clear()
    env = WorkflowEnvironment()
    assert env.result(env.start(resume_flow, 4)) == {"done": 3}
    assert SEEN == [(1, None), (2, {"done": 1}), (3, {"done": 2}), (4, {"done": 3})]


def test_non_retryable_in_memory() -> None:
    SEEN.clear()
    env = WorkflowEnvironment()
    assert env.result(env.start(fatal_flow)) == f"{__name__}.Fatal/1"
    assert SEEN == [1]


def test_complete_later_needs_a_real_worker() -> None:
    env = WorkflowEnvironment()
    assert "real Worker" in env.result(env.start(later_flow))


def test_scope_cancellation_and_tokens() -> None:
    info = ActivityInfo(
        run_id="r",
        activity="a",
        attempt=2,
        task_id=7,
        task_token=task_token(7, 2, 99),
        started_at=datetime(2026, 1, 1, tzinfo=UTC),
        heartbeat_timeout=timedelta(seconds=3),
    )
    beats: list[tuple[Any, bool]] = []
    scope = ActivityScope(info, previous_details=[1], beat=lambda d, h: beats.append((d, h)))
    with activity_scope(scope):
        assert continuum.activity_info() is info
        assert continuum.heartbeat_details() == [1]
        continuum.heartbeat({"p": 1})
        continuum.heartbeat()
        scope.cancel("its run was cancelled")
        with pytest.raises(continuum.ActivityCancelled, match="its run was cancelled") as err:
            continuum.heartbeat()
        assert err.value.run_id == "r" and err.value.task_id == 7
        with pytest.raises(continuum.PayloadError):
            continuum.heartbeat(object())
    assert beats == [({"p": 1}, True), (None, False)]
    with pytest.raises(continuum.ActivityContextError):
        continuum.activity_info()
    assert parse_task_token(info.task_token, operation="x") == (7, 2, 99)
    with pytest.raises(continuum.TaskTokenError, match="x: "):
        parse_task_token("ct1.7.2", operation="x")


def test_backoff_delay_is_capped_for_any_attempt() -> None:
    b = continuum.Backoff(initial=seconds(1), factor=2.0, max=seconds(60))
    assert [b.delay(n).total_seconds() for n in (1, 2, 3, 7, 8, 10_000)] == [
        1,
        2,
        4,
        60,
        60,
        60,
    ]
    flat = continuum.Backoff(initial=seconds(2), factor=1.0, max=seconds(60))
    assert flat.delay(10_000) == seconds(2)


@continuum.activity
def paged(total: int) -> int:
    start = continuum.heartbeat_details() or 0
    for page in range(start, total):
        continuum.heartbeat(page + 1)
    return continuum.activity_info().attempt


@continuum.activity
async def paged_async(total: int) -> list[int]:
    continuum.heartbeat(total)
    return [continuum.activity_info().attempt]


def test_activity_environment_runs_one_body_with_its_context() -> None:
    from continuum.testing import ActivityEnvironment

    env = ActivityEnvironment(attempt=3, heartbeat_details=2)
    assert env.run(paged, 4) == 3
    assert env.heartbeats == [3, 4]
    assert ActivityEnvironment().run(paged_async, 5) == [1]
    cancelled = ActivityEnvironment()
    cancelled.cancel("the run was cancelled")
    with pytest.raises(continuum.ActivityCancelled, match="the run was cancelled"):
        cancelled.run(paged, 2)
