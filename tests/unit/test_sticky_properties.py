"""Sticky runs against the cold path, in memory: random programs, identical journals.

The cold path (load + replay from the first event on every activation) is the
reference; a sticky driver keeps each run's workflow parked at its wait and resumes it
with only the new input. Both must journal exactly the same events. Two runs share a
cache of one entry, so they evict each other and every run also goes cold now and then.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import continuum
from continuum.definitions.workflow import Workflow
from continuum.runtime.sticky import StickyCache
from continuum.testing import WorkflowEnvironment
from tests.unit import flows

KINDS = ["act", "local", "side", "timer", "signal", "gather", "patch", "saga", "fail", "guarded"]

op = st.tuples(st.sampled_from(KINDS), st.integers(min_value=1, max_value=3))
programs = st.lists(op, min_size=1, max_size=14)


@continuum.activity(name="tests.sticky.undo")
def undo(n: int) -> int:
    return -n


@continuum.activity(name="tests.sticky.boom", max_attempts=1)
def boom(n: int) -> int:
    raise ValueError(f"boom {n}")


def interpret(ops: list[tuple[str, int]]) -> list[Any]:
    out: list[Any] = []
    for kind, n in ops:
        if kind == "act":
            out.append(continuum.execute(flows.double, n))
        elif kind == "local":
            out.append(continuum.execute(flows.local_double, n))
        elif kind == "side":
            out.append(continuum.side_effect(lambda n=n: n * 10))
        elif kind == "timer":
            continuum.sleep(continuum.minutes(n))
            out.append("slept")
        elif kind == "signal":
            out.append(continuum.wait_signal(f"s{n}"))
        elif kind == "gather":
            out.append(
                continuum.gather(*[continuum.start_activity(flows.double, i) for i in range(n)])
            )
        elif kind == "patch":
            out.append(continuum.patched(f"p{n}"))
        elif kind == "saga":
            ref = continuum.execute(flows.double, n, compensate=continuum.compensation(undo, n))
            out.append(continuum.unwrap(ref))
            out.append(continuum.compensate_all())
        elif kind == "fail":
            try:
                continuum.execute(boom, n)
            except continuum.ActivityFailed as exc:
                out.append(exc.error_type)
        elif kind == "guarded":  # a wait inside `with`: suspended the cold way
            with contextlib.suppress(KeyError):
                out.append(continuum.execute(flows.double, n))
    return out


def make_flow(ops: list[tuple[str, int]]) -> Workflow[None, list[Any]]:
    def program(_: None) -> list[Any]:
        return interpret(ops)

    return Workflow(program, name="tests.sticky.program")


def record(ops: list[tuple[str, int]], sticky: bool) -> tuple[list[Any], StickyCache | None]:
    """Two runs of the program to the end; their journals and results."""
    env = WorkflowEnvironment()
    cache = StickyCache(max_runs=1) if sticky else None
    env.driver.sticky = cache
    flow = make_flow(ops)
    runs = [env.start(flow, None, id=f"run-{k}") for k in range(2)]
    for kind, n in ops:
        if kind == "signal":
            for run_id in runs:
                env.inject_signal(run_id, f"s{n}", f"payload-{n}")
    for _ in range(len(ops) + 1):
        if all(env.get_run(r).state == "completed" for r in runs):
            break
        env.advance(continuum.minutes(5))
    out: list[Any] = []
    for run_id in runs:
        assert env.get_run(run_id).state == "completed", env.get_run(run_id)
        out.append((env.history(run_id), env.result(run_id)))
    return out, cache


def _blocks(ops: list[tuple[str, int]]) -> bool:
    # ("fail" and "guarded" wait inside a try/with block: those waits suspend cold.)
    return any(kind in ("act", "timer", "signal", "gather", "saga") for kind, _ in ops)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_sticky_and_cold_paths_journal_the_same_events(ops: list[tuple[str, int]]) -> None:
    cold, _ = record(ops, sticky=False)
    warm, cache = record(ops, sticky=True)
    assert warm == cold
    assert cache is not None
    if _blocks(ops):
        # The sticky path was really taken (not a cold path in disguise), and the two
        # runs evicted each other from the one-entry cache.
        assert cache.hits > 0
        assert cache.misses >= 2
    assert cache.stats()["parked"] == 0  # finished runs are never kept


def test_a_run_parked_then_evicted_finishes_cold_with_the_same_journal() -> None:
    ops = [("act", 1), ("act", 2), ("signal", 1), ("act", 3)]
    cold, _ = record(ops, sticky=False)
    env = WorkflowEnvironment()
    cache = StickyCache(max_runs=4)
    env.driver.sticky = cache
    flow = make_flow(ops)
    run_id = env.start(flow, None, id="run-0")
    other = env.start(flow, None, id="run-1")
    env.run_until_idle()
    assert cache.stats()["parked"] == 2  # both wait for their signal
    cache.clear()  # a worker under memory pressure drops everything
    for r in (run_id, other):
        env.inject_signal(r, "s1", "payload-1")
    env.run_until_idle()
    assert [(env.history(r), env.result(r)) for r in (run_id, other)] == cold
    assert cache.stats()["evictions"] == 0 and cache.misses >= 4


@continuum.workflow(name="tests.sticky.swallows")
def swallows() -> str:
    try:
        continuum.wait_signal("never")
    except BaseException:
        pass
    return str(continuum.execute(flows.double, 1))


@pytest.mark.parametrize("sticky", [False, True])
def test_a_swallowed_suspend_fails_the_run_on_both_paths(sticky: bool) -> None:
    env = WorkflowEnvironment()
    env.driver.sticky = StickyCache(max_runs=4) if sticky else None
    run_id = env.start(swallows, None)
    env.run_until_idle()
    info = env.get_run(run_id)
    assert info.state == "failed"
    assert "SuspendLeakError" in str(info.error)
