"""Replaying a recorded history offline, with no storage: golden files, paranoid re-replay
and ``continuum replay --against-current`` (public as :mod:`continuum.testing.replay`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from continuum import payloads
from continuum.definitions.workflow import Workflow
from continuum.engine import events as ev_types
from continuum.engine.activation import activate
from continuum.engine.events import Event
from continuum.engine.types import ActivationInput
from continuum.errors import ReplayDriftError

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class ReplayOutcome:
    """What replaying a history produced.

    ``state`` is ``completed``, ``failed``, ``continued`` or ``suspended`` (the history
    ends at a wait). ``result`` is decoded to the workflow's return type.
    """

    state: str
    result: Any = None
    error: dict[str, Any] | None = None
    continue_input: Any = None
    waiting_on: str = ""


def load_history(history: list[dict[str, Any]] | str | Path) -> list[Event]:
    """Parse a history given as dicts, or as a path to a JSON file of them."""
    if isinstance(history, (str, Path)):
        raw = json.loads(Path(history).read_text())
        if isinstance(raw, dict) and "events" in raw:
            raw = raw["events"]
    else:
        raw = history
    return [Event.from_json(item) for item in raw]


def replay(flow: Workflow[Any, Any], history: list[dict[str, Any]] | str | Path) -> ReplayOutcome:
    """Re-execute ``flow`` against ``history`` without any storage.

    Raises :class:`ReplayDriftError` if the code no longer issues the recorded
    commands, or reaches a different result/continuation than the one recorded.
    Histories that end at a pending wait replay up to it (``state="suspended"``).
    """
    events = load_history(history)
    started = next((e for e in events if e.type == ev_types.RUN_STARTED), None)
    if started is None:
        raise ReplayDriftError("history has no run_started event; cannot tell the input")
    run_id = str(started.data.get("run_id", "replay"))
    inp = ActivationInput(
        run_id=run_id,
        workflow=flow.name,
        version_hash=flow.version_hash,
        input=started.data.get("input"),
        events=events,
        now=_NEVER,
        last_seq=events[-1].seq if events else 0,
        namespace=str(started.data.get("namespace", "default")),
        parent_run_id=started.data.get("parent_run_id"),
        correlation_id=str(started.data.get("correlation_id", run_id)),
        attempt=int(started.data.get("attempt", 1)),
    )
    result = activate(flow, inp)
    if isinstance(result.fatal, ReplayDriftError):
        raise result.fatal
    outcome = result.outcome
    recorded = {e.type: e for e in events if e.type in ev_types.TERMINAL_EVENTS}
    if outcome.kind == "completed" and ev_types.RUN_COMPLETED in recorded:
        expected = recorded[ev_types.RUN_COMPLETED].data.get("result")
        if payloads.dumps(expected) != payloads.dumps(outcome.result):
            raise ReplayDriftError(
                f"replay of {flow.name} returned {outcome.result!r}, "
                f"but the journal recorded {expected!r}"
            )
    if outcome.kind == "continued" and ev_types.RUN_CONTINUED_AS_NEW in recorded:
        expected = recorded[ev_types.RUN_CONTINUED_AS_NEW].data.get("input_hash")
        if expected != payloads.digest(outcome.continue_input):
            raise ReplayDriftError(f"replay of {flow.name} continued with a different input")
    for kind, marker in (("completed", ev_types.RUN_FAILED), ("failed", ev_types.RUN_COMPLETED)):
        if outcome.kind == kind and marker in recorded:
            raise ReplayDriftError(
                f"replay of {flow.name} {kind}, but the journal recorded {marker}"
            )
    decoded = flow.decode_result(outcome.result) if outcome.kind == "completed" else None
    return ReplayOutcome(
        outcome.kind,
        result=decoded,
        error=outcome.error,
        continue_input=outcome.continue_input,
        waiting_on=outcome.waiting_on,
    )


def verify_run(flow: Workflow[Any, Any], history: list[dict[str, Any]]) -> ReplayOutcome:
    """Paranoid check: a finished run must re-replay to the same commands and result."""
    return replay(flow, history)
