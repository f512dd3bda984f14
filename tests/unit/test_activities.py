from __future__ import annotations

import pytest

import continuum
from continuum.testing import WorkflowEnvironment
from tests.unit import flows
from tests.unit.flows import Order


def _types(env: WorkflowEnvironment, run_id: str) -> list[str]:
    return [e["type"] for e in env.history(run_id)]


def test_activity_retries_with_backoff_then_succeeds(env: WorkflowEnvironment) -> None:
    flows.FAILURES["o1"] = 2
    start = env.now
    run_id = env.start(flows.order_flow, Order(id="o1", total=5))
    assert [c for c in flows.LEDGER if c[0] == "charge"] == [("charge", "o1")] * 3
    # Backoff initial=2s factor=3: waits of 2s and 6s were skipped on the virtual clock.
    assert (env.now - start).total_seconds() == pytest.approx(8)
    completed = [e for e in env.history(run_id) if e["type"] == "activity_completed"]
    assert completed[0]["data"]["attempts"] == 3


def test_activity_exhaustion_raises_activity_failed_into_workflow(
    env: WorkflowEnvironment,
) -> None:
    flows.FAILURES["saga"] = 10
    run_id = env.start(flows.saga, ["a", "b"])
    assert env.result(run_id) == "rolled back"
    failed = [e for e in env.history(run_id) if e["type"] == "activity_failed"]
    assert failed[0]["data"]["attempts"] == 3
    assert failed[0]["data"]["error"]["message"] == "card declined for saga"


def test_idempotency_key_reuses_committed_result_without_rerunning(
    env: WorkflowEnvironment,
) -> None:
    first = env.start(flows.order_flow, Order(id="o7", total=5), id="first")
    second = env.start(flows.order_flow, Order(id="o7", total=5), id="second")
    assert flows.LEDGER.count(("charge", "o7")) == 1
    for run_id in (first, second):
        env.inject_signal(run_id, "fraud_review", "rejected")
        assert env.result(run_id) == "rejected ch_o7"


def test_gather_returns_results_in_argument_order(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.fan_out, 5)
    assert env.result(run_id) == [0, 2, 4, 6, 8]
    assert _types(env, run_id).count("activity_scheduled") == 5


def test_local_activity_is_journaled_in_the_same_activation(env: WorkflowEnvironment) -> None:
    run_id = env.start(flows.uses_local, 3)
    assert env.result(run_id) == 12
    history = env.history(run_id)
    local = [e for e in history if e["type"] == "activity_scheduled" and e["data"]["local"]]
    assert len(local) == 1
    completion = next(e for e in history if e.get("ref_seq") == local[0]["seq"])
    assert completion["seq"] == local[0]["seq"] + 1
    assert flows.LEDGER.count(("local_double", 3)) == 1


def test_calling_an_activity_directly_inside_a_workflow_is_an_error(
    env: WorkflowEnvironment,
) -> None:
    @continuum.workflow(name="tests.direct_call")
    def direct(_: None) -> int:
        return flows.double(2)

    run_id = env.start(direct, None)
    info = env.get_run(run_id)
    assert info.state == "failed"
    assert "use continuum.execute(double" in (info.error or {})["message"]


def test_activity_called_outside_workflow_runs_in_place() -> None:
    assert flows.double(21) == 42


def _plain(a: int, b: str) -> str:
    return f"{a}{b}"


def _defaults(a: int, b: int = 2, *rest: int, c: int = 3) -> int:
    return a + b + c + sum(rest)


@pytest.mark.parametrize(
    ("fn", "args", "kwargs", "expected"),
    [
        (_plain, (1, "x"), {}, {"args": [1, "x"], "kwargs": {}}),
        (_plain, (1,), {"b": "x"}, {"args": [1, "x"], "kwargs": {}}),
        (_defaults, (1,), {}, {"args": [1], "kwargs": {}}),
        (_defaults, (1, 2, 5, 6), {"c": 4}, {"args": [1, 2, 5, 6], "kwargs": {"c": 4}}),
    ],
)
def test_arguments_are_bound_as_python_binds_them(
    fn: object, args: tuple[object, ...], kwargs: dict[str, object], expected: object
) -> None:
    act = continuum.activity(name=f"bind.{fn.__name__}")(fn)  # type: ignore[attr-defined]
    assert act.encode_args(args, kwargs) == expected


def test_a_call_that_cannot_bind_fails_at_the_call_site() -> None:
    act = continuum.activity(name="bind.plain_arity")(_plain)
    with pytest.raises(continuum.DefinitionError, match="bad arguments"):
        act.encode_args((1, "x", "extra"), {})
    with pytest.raises(continuum.DefinitionError, match="bad arguments"):
        act.encode_args((1,), {})
