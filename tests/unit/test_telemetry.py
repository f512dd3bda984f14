from __future__ import annotations

from typing import Any

import pytest

import continuum
from continuum.testing import WorkflowEnvironment
from tests.unit import flows
from tests.unit.flows import Order


def test_named_events_carry_instance_metadata(env: WorkflowEnvironment) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    handler = continuum.telemetry.attach("*", lambda event, meta: seen.append((event, meta)))
    try:
        run_id = env.start(flows.order_flow, Order(id="tel", total=1))
        env.inject_signal(run_id, "fraud_review", "rejected")
    finally:
        continuum.telemetry.detach(handler)
    names = [event for event, _ in seen]
    assert names[0] == "run.started"
    assert "activity.started" in names
    assert "activity.completed" in names
    assert "signal.received" in names
    assert names[-1] == "run.completed"
    assert all(meta["instance"] == "test" for _, meta in seen)
    assert all(meta.get("run_id") == run_id for event, meta in seen if event.startswith("run."))


def test_attach_rejects_unknown_event_names() -> None:
    with pytest.raises(ValueError, match="unknown telemetry event"):
        continuum.telemetry.attach("run.exploded", lambda e, m: None)


def test_a_raising_handler_never_breaks_a_run(env: WorkflowEnvironment) -> None:
    def boom(event: str, meta: dict[str, Any]) -> None:
        raise RuntimeError("observer bug")

    handler = continuum.telemetry.attach("run.completed", boom)
    try:
        run_id = env.start(flows.fan_out, 1)
    finally:
        continuum.telemetry.detach(handler)
    assert env.result(run_id) == [0]
