from __future__ import annotations

from datetime import timedelta

import pytest

import continuum
from continuum import hours
from continuum.testing import RunNotFinished, WorkflowEnvironment
from tests.unit import flows
from tests.unit.flows import Order


def test_signal_sent_before_wait_is_consumed_once(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.late_waiter")
    def late_waiter(_: None) -> list[str]:
        continuum.sleep(hours(1))
        got = continuum.wait_signal("go")
        again = continuum.wait_signal("go", timeout=hours(1))
        return [got, again]

    run_id = env.start(late_waiter, None)
    env.inject_signal(run_id, "go", "early")
    env.advance(hours(1))
    assert env.get_run(run_id).state == "suspended"
    types = [e["type"] for e in env.history(run_id)]
    # Fast path: the pending signal is journaled as received with no awaited event.
    assert types.count("signal_received") == 1
    env.advance(hours(2))
    with pytest.raises(continuum.RunFailed, match="SignalTimeout"):
        env.result(run_id)


def test_signals_buffer_per_run_and_are_consumed_in_order(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.collect_signals, 3)
    env.inject_signal(run_id, "other", "ignored")
    for item in ("a", "b", "c"):
        env.inject_signal(run_id, "item", item)
    assert env.result(run_id) == ["a", "b", "c"]
    with pytest.raises(continuum.RunTerminal):
        env.inject_signal(run_id, "item", "d")


def test_out_of_order_signals_wait_for_their_matching_wait(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.two_signals, None)
    env.inject_signal(run_id, "second", "2")
    assert env.get_run(run_id).state == "suspended"
    env.inject_signal(run_id, "first", "1")
    assert env.result(run_id) == ["1", "2"]


def test_signal_timeout_raises_signal_timeout_in_workflow(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.order_flow, Order(id="t1", total=1))
    env.advance(timedelta(minutes=59))
    assert env.get_run(run_id).state == "suspended"
    env.advance(timedelta(minutes=2))
    info = env.get_run(run_id)
    assert info.state == "failed"
    assert info.error is not None and "fraud_review" in info.error["message"]
    assert "signal_timed_out" in [e["type"] for e in env.history(run_id)]


def test_signal_after_timeout_fired_is_not_consumed_by_the_expired_wait(
    env: WorkflowEnvironment,
) -> None:
    run_id = env.start(flows.order_flow, Order(id="t2", total=1))
    env.advance(hours(2))
    with pytest.raises(continuum.RunTerminal):
        env.inject_signal(run_id, "fraud_review", "approved")


def test_timer_fires_only_when_the_virtual_clock_reaches_it(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.order_flow, Order(id="t3", total=1))
    env.inject_signal(run_id, "fraud_review", "approved")
    env.advance(hours(23))
    with pytest.raises(RunNotFinished):
        env.result(run_id)
    env.advance(hours(1))
    assert env.result(run_id) == "shipped ch_t3 via dhl"


def test_fire_timer_moves_the_clock_to_the_pending_timer(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.order_flow, Order(id="t4", total=1))
    env.inject_signal(run_id, "fraud_review", "approved")
    env.fire_timer(run_id)
    assert env.result(run_id) == "shipped ch_t4 via dhl"


def test_signal_to_unknown_run_raises_run_not_found(env: WorkflowEnvironment) -> None:
    with pytest.raises(continuum.RunNotFound, match="nope"):
        env.inject_signal("nope", "x", 1)


def test_malformed_signal_payload_is_rejected_and_nothing_is_written(
    env: WorkflowEnvironment,
) -> None:
    run_id = env.start(flows.collect_signals, 1)
    before = env.history(run_id)
    with pytest.raises(continuum.PayloadError, match="signal 'item'"):
        env.inject_signal(run_id, "item", object())
    assert env.history(run_id) == before
    env.inject_signal(run_id, "item", "ok")
    assert env.result(run_id) == ["ok"]
