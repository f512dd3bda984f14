"""Golden journals: recorded once, replayed forever against the current code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from continuum.testing import WorkflowEnvironment, replay
from tests.unit import flows
from tests.unit.flows import Order

GOLDEN = Path(__file__).parent / "golden"


def _record_order_flow() -> list[dict[str, object]]:
    env = WorkflowEnvironment()
    run_id = env.start(flows.order_flow, Order(id="golden", total=42), id="golden-1")
    env.inject_signal(run_id, "fraud_review", "approved")
    env.advance(flows.hours(24))
    return env.history(run_id)


def test_golden_order_flow_history_replays() -> None:
    path = GOLDEN / "order_flow_v1.json"
    # Recorded once with _record_order_flow(); never regenerate it to make a test pass.
    assert path.exists(), "golden journal missing"
    outcome = replay(flows.order_flow, path)
    assert outcome.state == "completed"
    assert outcome.result == "shipped ch_golden via dhl"


def test_golden_file_is_the_public_history_format() -> None:
    events = json.loads((GOLDEN / "order_flow_v1.json").read_text())
    assert [e["type"] for e in events][:3] == [
        "run_started",
        "activity_scheduled",
        "activity_completed",
    ]
    assert events[1]["command"]["kind"] == "activity"
    assert {"seq", "type", "data"} <= set(events[0])


@pytest.mark.parametrize("as_path", [True, False])
def test_replay_accepts_a_list_or_a_path(as_path: bool, tmp_path: Path) -> None:
    history = _record_order_flow()
    source: object = history
    if as_path:
        source = tmp_path / "h.json"
        source.write_text(json.dumps(history))
    assert replay(flows.order_flow, source).result == "shipped ch_golden via dhl"  # type: ignore[arg-type]
