"""Random workflow programs: record in memory, replay, and mutate to provoke drift."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import continuum
from continuum.definitions.workflow import Workflow
from continuum.testing import WorkflowEnvironment, replay
from tests.unit import flows

KINDS = ["act", "local", "side", "timer", "signal", "now", "uuid", "random", "gather", "patch"]

op = st.tuples(st.sampled_from(KINDS), st.integers(min_value=1, max_value=3))
programs = st.lists(op, min_size=1, max_size=12)


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
        elif kind == "now":
            out.append(continuum.now().isoformat())
        elif kind == "uuid":
            out.append(str(continuum.uuid4()))
        elif kind == "random":
            out.append(continuum.random())
        elif kind == "gather":
            out.append(
                continuum.gather(*[continuum.start_activity(flows.double, i) for i in range(n)])
            )
        elif kind == "patch":
            out.append(continuum.patched(f"p{n}"))
    return out


def make_flow(ops: list[tuple[str, int]]) -> Workflow[None, list[Any]]:
    def program(_: None) -> list[Any]:
        return interpret(ops)

    return Workflow(program, name="tests.property.program")


def record(ops: list[tuple[str, int]]) -> tuple[list[dict[str, Any]], Any]:
    env = WorkflowEnvironment()
    flow = make_flow(ops)
    run_id = env.start(flow, None)
    # Signals sent early wait in the mailbox; timers need the clock.
    for kind, n in ops:
        if kind == "signal":
            env.inject_signal(run_id, f"s{n}", f"payload-{n}")
    for _ in range(len(ops) + 1):
        if env.get_run(run_id).state == "completed":
            break
        env.advance(continuum.minutes(5))
    assert env.get_run(run_id).state == "completed", env.get_run(run_id)
    return env.history(run_id), env.result(run_id)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs)
def test_replaying_a_recorded_history_reproduces_result_and_commands(
    ops: list[tuple[str, int]],
) -> None:
    history, result = record(ops)
    outcome = replay(make_flow(ops), history)
    assert outcome.state == "completed"
    assert outcome.result == result


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs, st.data())
def test_changing_an_effect_is_detected_as_drift(
    ops: list[tuple[str, int]], data: st.DataObject
) -> None:
    history, _ = record(ops)
    index = data.draw(st.integers(min_value=0, max_value=len(ops) - 1))
    old_kind, n = ops[index]
    # "patch" on a replayed history returns False without consuming: not a drift by design.
    new_kind = data.draw(st.sampled_from([k for k in KINDS if k not in (old_kind, "patch")]))
    if old_kind == "patch":
        mutated = ops[:index] + ops[index + 1 :]
        if not mutated:
            return
        mutated = [*mutated, ("act", 1)]  # drop the patch marker, add an extra command
    else:
        mutated = [*ops[:index], (new_kind, n), *ops[index + 1 :]]
    try:
        replay(make_flow(mutated), history)
    except continuum.ReplayDriftError:
        return
    raise AssertionError(f"no drift detected for {ops} -> {mutated}")


@settings(max_examples=30, deadline=None)
@given(programs)
def test_reordering_two_different_effects_is_detected_as_drift(
    ops: list[tuple[str, int]],
) -> None:
    pairs = [
        i
        for i in range(len(ops) - 1)
        if ops[i][0] != ops[i + 1][0] and "patch" not in (ops[i][0], ops[i + 1][0])
    ]
    if not pairs:
        return
    i = pairs[0]
    history, _ = record(ops)
    swapped = [*ops[:i], ops[i + 1], ops[i], *ops[i + 2 :]]
    try:
        replay(make_flow(swapped), history)
    except continuum.ReplayDriftError:
        return
    raise AssertionError(f"no drift detected for {ops} -> {swapped}")
