from __future__ import annotations

import pytest

import continuum
from continuum.testing import WorkflowEnvironment
from tests.unit import flows


def test_compensate_all_runs_in_lifo_order(env: WorkflowEnvironment) -> None:
    flows.FAILURES["saga"] = 5
    run_id = env.start(flows.saga, ["a", "b", "c"])
    assert env.result(run_id) == "rolled back"
    releases = [c for c in flows.LEDGER if c[0] == "release"]
    assert releases == [("release", "c"), ("release", "b"), ("release", "a")]


def test_compensate_ref_runs_once_and_leaves_the_pending_set(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.saga_with_manual, ["a", "b"])
    assert env.result(run_id) == [True, False, True]
    releases = [c for c in flows.LEDGER if c[0] == "release"]
    assert releases == [("release", "a"), ("release", "b")]


def test_parallel_compensation_schedules_all_before_waiting(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.saga_parallel, ["a", "b", "c"])
    assert env.result(run_id) == [True, True, True]
    types = [e["type"] for e in env.history(run_id)]
    first_done = types.index("compensation_completed")
    assert types[:first_done].count("compensation_scheduled") == 3


def test_failing_compensation_is_journaled_and_run_continues(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.saga_failing_compensation, ["a", "b"])
    assert env.result(run_id) == [False, True]
    types = [e["type"] for e in env.history(run_id)]
    assert "compensation_failed" in types
    assert flows.LEDGER.count(("broken_release", "b")) == 2  # its max_attempts
    assert ("release", "a") in flows.LEDGER


def test_unwrap_returns_the_value_with_or_without_a_ref() -> None:
    ref = continuum.ActivityRef(result=5, seq=1)
    assert continuum.unwrap(ref) == 5
    assert continuum.unwrap(7) == 7


def test_children_return_results_and_have_deterministic_ids(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.parent, 3, id="p1")
    assert env.result(run_id) == [0, 2, 4, 200]
    children = sorted(r.id for r in env.journal.runs() if r.parent_run_id == "p1")
    assert children[:3] == ["p1/item-0", "p1/item-1", "p1/item-2"]
    assert len(children) == 4


def test_children_inherit_namespace_and_attributes(env: WorkflowEnvironment) -> None:
    env.start(flows.parent, 1, id="p2", namespace="billing", attributes={"plan": "pro"})
    child = env.get_run("p2/item-0")
    assert child.namespace == "billing"
    assert child.attributes == {"plan": "pro"}
    assert child.parent_run_id == "p2"


def test_child_failure_is_a_failure_to_the_parent(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.parent_of_failure, None)
    assert env.result(run_id) == "failed: child refuses 7"


def test_cancel_cascades_to_grandchildren(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.grandparent, None, id="g")
    tree = [r for r in env.journal.runs() if r.id.startswith("g")]
    assert len(tree) == 3
    env.cancel(run_id)
    assert {r.id: r.state.value for r in env.journal.runs()} == {r.id: "cancelled" for r in tree}


def test_child_depth_is_enforced_at_creation() -> None:
    env = WorkflowEnvironment(max_child_depth=1)
    run_id = env.start(flows.grandparent, None)
    # grandparent -> middle is depth 1; middle -> child_waits would be depth 2.
    middle = next(r for r in env.journal.runs() if r.parent_run_id == run_id)
    assert middle.state == "failed"
    assert "max_child_depth=1" in (middle.error or {})["message"]
    with pytest.raises(continuum.RunFailed, match="ChildFailed"):
        env.result(run_id)


def test_continue_as_new_chain_keeps_history_bounded(env: WorkflowEnvironment) -> None:
    root = env.start(flows.counter, {"n": 0, "limit": 50}, id="loop")
    assert env.result(root) == 50
    chain = [r for r in env.journal.runs() if r.correlation_id == "loop"]
    assert len(chain) == 51
    assert max(len(env.history(r.id)) for r in chain) <= 6
    tip = env.journal.tip(root)
    assert env.get_run(tip).continued_from_run_id is not None
    assert env.get_run(root).result is None  # the continuation marker is never a result


def test_signal_to_chain_root_lands_in_the_live_tip_once(env: WorkflowEnvironment) -> None:
    root = env.start(flows.counter, {"n": 0, "limit": 3, "wait": 1}, id="sig")
    for _ in range(3):
        env.inject_signal(root, "tick", 1)
    assert env.result(root) == 3
    received = [
        e
        for r in env.journal.runs()
        if r.correlation_id == "sig"
        for e in env.history(r.id)
        if e["type"] == "signal_received"
    ]
    assert len(received) == 3


def test_cancel_on_chain_root_cancels_the_tip(env: WorkflowEnvironment) -> None:
    root = env.start(flows.counter, {"n": 0, "limit": 5, "wait": 1}, id="c")
    env.inject_signal(root, "tick", 1)
    env.cancel(root)
    tip = env.journal.tip(root)
    assert tip != root
    assert env.get_run(tip).state == "cancelled"
    with pytest.raises(continuum.RunCancelled):
        env.result(root)
