"""Two things a Temporal user hits in the first hour, in the in-memory kit:
cleanup effects in ``finally:`` and ``advance`` running every wake-up in its window."""

from __future__ import annotations

import pytest

import continuum
from continuum import seconds
from continuum.testing import WorkflowEnvironment

CALLS: list[str] = []


@continuum.activity
def work(x: str) -> str:
    CALLS.append(f"work:{x}")
    if x == "boom":
        raise RuntimeError("work failed")
    return f"did {x}"


@continuum.activity
def cleanup(x: str) -> None:
    CALLS.append(f"cleanup:{x}")


@continuum.workflow(name="unit.try_finally")
def try_finally(x: str) -> str:
    try:
        return continuum.execute(work, x)
    finally:
        continuum.execute(cleanup, x)


@continuum.workflow(name="unit.swallows_suspend")
def swallows_suspend(x: str) -> str:
    try:
        continuum.execute(work, x)
    except BaseException:  # noqa: CNT111 - the mistake this test is about
        pass
    return continuum.execute(cleanup, x) or "kept going"


@continuum.workflow(name="unit.ten_sleeps")
def ten_sleeps(n: int) -> int:
    for _ in range(n):
        continuum.sleep(seconds(1))
    return n


@continuum.workflow(name="unit.sleep_chain")
def sleep_chain(left: int) -> str:
    if left == 0:
        return "done"
    continuum.sleep(seconds(1))
    continuum.continue_as_new(left - 1)


@pytest.fixture(autouse=True)
def _clear() -> None:
    CALLS.clear()


def test_effect_in_finally_suspends_with_the_run_and_runs_once_at_the_end() -> None:
    env = WorkflowEnvironment()
    run_id = env.start(try_finally, "a")
    assert env.result(run_id) == "did a"
    assert CALLS == ["work:a", "cleanup:a"]
    types = [e["type"] for e in env.history(run_id)]
    assert types.count("activity_scheduled") == 2
    assert "run_completed" in types


def test_effect_in_finally_runs_when_the_run_fails() -> None:
    env = WorkflowEnvironment()
    run_id = env.start(try_finally, "boom")
    with pytest.raises(continuum.RunFailed) as failed:
        env.result(run_id)
    assert "ActivityFailed" in str(failed.value)
    assert CALLS == ["work:boom", "cleanup:boom"]


def test_swallowed_suspend_still_fails_the_run_with_suspend_leak() -> None:
    env = WorkflowEnvironment()
    run_id = env.start(swallows_suspend, "a")
    with pytest.raises(continuum.RunFailed) as failed:
        env.result(run_id)
    assert "SuspendLeakError" in str(failed.value)
    assert CALLS == []


def test_advance_runs_every_timer_in_the_window_in_order() -> None:
    env = WorkflowEnvironment()
    run_id = env.start(ten_sleeps, 10)
    env.advance(seconds(20))
    assert env.result(run_id) == 10
    fired = [e for e in env.history(run_id) if e["type"] == "timer_fired"]
    assert len(fired) == 10


def test_advance_follows_a_continue_as_new_chain_of_sleeps() -> None:
    env = WorkflowEnvironment()
    run_id = env.start(sleep_chain, 10)
    env.advance(seconds(20))
    assert env.result(run_id) == "done"


def test_advance_stops_at_the_end_of_its_window() -> None:
    env = WorkflowEnvironment()
    start = env.now
    run_id = env.start(ten_sleeps, 10)
    env.advance(seconds(4.5))
    assert env.now == start + seconds(4.5)
    assert sum(e["type"] == "timer_fired" for e in env.history(run_id)) == 4
    env.advance(seconds(6))
    assert env.result(run_id) == 10
