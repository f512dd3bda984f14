from __future__ import annotations

import copy

import pytest

import continuum
from continuum.testing import WorkflowEnvironment, replay
from tests.unit import flows, flows_v2
from tests.unit.flows import Charge, Order, Shipment


def test_cancel_produces_terminal_cancelled_state(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.collect_signals, 2)
    env.cancel(run_id)
    assert env.get_run(run_id).state == "cancelled"
    assert env.history(run_id)[-1]["type"] == "run_cancelled"
    with pytest.raises(continuum.RunCancelled):
        env.result(run_id)
    with pytest.raises(continuum.RunTerminal):
        env.inject_signal(run_id, "item", "late")


def test_swallowed_suspend_fails_the_run_with_suspend_leak(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.swallow_suspend, None)
    info = env.get_run(run_id)
    assert info.state == "failed"
    assert info.error is not None
    assert info.error["type"] == "continuum.errors.SuspendLeakError"
    assert "bare `except:`" in info.error["message"]


def test_swallowed_suspend_followed_by_effect_fails_before_journaling_it(
    env: WorkflowEnvironment,
) -> None:
    run_id = env.start(flows.swallow_then_effect, None)
    assert env.get_run(run_id).state == "failed"
    assert "activity_scheduled" not in [e["type"] for e in env.history(run_id)]


def test_workflow_exception_fails_run_with_type_message_and_traceback(
    env: WorkflowEnvironment,
) -> None:
    run_id = env.start(flows.raises, None)
    error = env.get_run(run_id).error
    assert error is not None
    assert error["type"] == "ValueError"
    assert error["message"] == "bad order state"
    assert "flows.py" in error["traceback"]
    with pytest.raises(continuum.RunFailed, match="ValueError: bad order state"):
        env.result(run_id)


def test_drift_names_run_seq_and_both_call_sites(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.order_flow, Order(id="d1", total=1))
    env.inject_signal(run_id, "fraud_review", "approved")
    env.advance(continuum.hours(25))
    with pytest.raises(continuum.ReplayDriftError) as info:
        replay(flows_v2.order_flow, env.history(run_id))
    err = info.value
    assert err.run_id == run_id
    assert err.seq == 2
    assert "activity 'tests.unit.flows:flaky_charge'" in err.expected
    assert "flows.py:" in err.expected
    assert "signal 'fraud_review'" in err.actual
    assert "flows_v2.py:" in err.actual
    assert str(err).startswith(f"replay drift in run {run_id} at event seq 2")


def test_different_result_from_same_commands_is_drift(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.fan_out, 2)
    with pytest.raises(continuum.ReplayDriftError, match="returned"):
        replay(flows_v2.fan_out, env.history(run_id))


def test_code_that_stops_before_recorded_commands_is_drift(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.collect_signals, 2)
    env.inject_signal(run_id, "item", "a")
    env.inject_signal(run_id, "item", "b")
    with pytest.raises(continuum.ReplayDriftError, match="finished before reaching it"):
        replay(flows_v2.collect_signals, env.history(run_id))


def test_replay_of_recorded_history_reproduces_result(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.values, None)
    outcome = replay(flows.values, env.history(run_id))
    assert outcome.state == "completed"
    assert outcome.result == env.result(run_id)
    assert outcome.result["side"] == 42


def test_replay_of_history_ending_at_a_wait_suspends(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.two_signals, None)
    outcome = replay(flows.two_signals, env.history(run_id))
    assert outcome.state == "suspended"
    assert "first" in outcome.waiting_on


def test_pydantic_and_dataclass_payloads_round_trip(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.returns_model, Order(id="m1", total=9))
    assert env.result(run_id) == Charge(charge_id="m1", amount=9)
    run_id = env.start(flows.returns_dataclass, "m2")
    assert env.result(run_id) == Shipment(order_id="m2", carrier="dhl")


def test_non_json_start_input_is_rejected_at_the_call_site(env: WorkflowEnvironment) -> None:
    with pytest.raises(continuum.PayloadError, match="input of workflow"):
        env.start(flows.raises, object())


@pytest.mark.parametrize(
    ("flow", "message"),
    [(flows.bad_side_effect, "value of side_effect"), (flows.bad_activity_arg, "argument 0")],
)
def test_non_json_values_inside_workflow_fail_clearly_without_journaling_them(
    env: WorkflowEnvironment, flow: continuum.Workflow[None, None], message: str
) -> None:
    run_id = env.start(flow, None)
    info = env.get_run(run_id)
    assert info.state == "failed"
    assert info.error is not None and message in info.error["message"]
    assert [e["type"] for e in env.history(run_id)] == ["run_started", "run_failed"]


def test_start_is_idempotent_on_id(env: WorkflowEnvironment) -> None:
    first = env.start(flows.fan_out, 1, id="order-42")
    second = env.start(flows.fan_out, 1, id="order-42")
    assert first == second == "order-42"
    assert len(env.journal.runs()) == 1


def test_async_workflows_are_rejected_at_definition() -> None:
    with pytest.raises(continuum.DefinitionError, match="async def"):

        @continuum.workflow
        async def nope(_: None) -> None:
            return None


def test_workflows_take_one_input() -> None:
    with pytest.raises(continuum.DefinitionError, match="one input"):

        @continuum.workflow
        def nope(a: int, b: int) -> None:
            return None


def test_calling_a_workflow_directly_explains_how_to_start_it() -> None:
    with pytest.raises(continuum.WorkflowContextError, match=r"client\.start"):
        flows.fan_out(1)


def test_workflow_api_outside_a_workflow_is_an_error() -> None:
    with pytest.raises(continuum.WorkflowContextError, match="inside a running workflow"):
        continuum.now()


def test_decorators_work_with_and_without_arguments() -> None:
    @continuum.activity
    def bare(x: int) -> int:
        return x

    @continuum.activity(max_attempts=4, timeout=continuum.seconds(3))
    def configured(x: int) -> int:
        return x

    assert isinstance(bare, continuum.Activity) and bare.max_attempts == 1
    assert configured.max_attempts == 4 and configured.timeout == continuum.seconds(3)
    with pytest.raises(continuum.DefinitionError, match="max_attempts"):
        continuum.activity(max_attempts=0)(lambda: None)


def test_history_is_json_ready_and_replayable_after_a_round_trip(
    env: WorkflowEnvironment,
) -> None:
    import json

    run_id = env.start(flows.fan_out, 3)
    history = json.loads(json.dumps(env.history(run_id)))
    assert replay(flows.fan_out, copy.deepcopy(history)).result == [0, 2, 4]
