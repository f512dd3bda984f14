"""Snapshots are replay-equivalent: an activation over ``snapshot + later events`` is the
same as over the full history, for random programs and every snapshot/resume point."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import continuum
from continuum.definitions.workflow import Workflow
from continuum.engine import snapshot
from continuum.engine.activation import activate
from continuum.engine.events import Event
from continuum.engine.types import ActivationInput, ActivationResult
from continuum.testing import WorkflowEnvironment
from tests import snapshot_programs as sp

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# (uuid4 is left out: a *live* uuid differs between any two activations, snapshot or not.)
ALL_OPS = [*sp.DETERMINISTIC_OPS, "gather", "now"]


@continuum.workflow(name="tests.snapshot.program")
def program(ops: list[list[Any]]) -> list[Any]:
    return sp.interpret(ops)


def record(ops: list[list[Any]]) -> list[Event]:
    env = WorkflowEnvironment()
    run_id = env.start(program, ops)
    for name, payload in sp.signals_of(ops):
        env.inject_signal(run_id, name, payload)
    for _ in range(len(ops) + 2):
        if env.get_run(run_id).state.terminal:
            break
        env.advance(continuum.seconds(1))
    assert env.get_run(run_id).state == "completed", env.get_run(run_id)
    return [Event.from_json(e) for e in env.history(run_id)]


def _inp(flow: Workflow[Any, Any], events: list[Event], last_seq: int, ops: Any) -> ActivationInput:
    return ActivationInput(
        run_id="r",
        workflow=flow.name,
        version_hash=flow.version_hash,
        input=ops,
        events=events,
        now=NOW,
        last_seq=last_seq,
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Event):
        return value.to_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    return value


def _result(res: ActivationResult) -> Any:
    return _plain(res)


def _through_snapshot(events: list[Event], j: int) -> list[Event]:
    """What a resume loads with a snapshot taken after ``events[:j]``: decoded prefix + rest."""
    doc = snapshot.encode(snapshot.compact(events[:j]), events[j - 1].seq)
    # Round-trip through JSON as the database does.
    import json

    stored = json.loads(json.dumps(doc))
    return snapshot.decode(stored, snapshot.FORMAT_VERSION, events[j - 1].seq) + events[j:]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sp.programs(ALL_OPS))
def test_every_resume_from_a_snapshot_equals_the_full_replay(ops: list[list[Any]]) -> None:
    history = record(ops)
    for k in range(1, len(history) + 1):
        prefix = history[:k]
        full = _result(activate(program, _inp(program, prefix, prefix[-1].seq, ops)))
        for j in range(1, k + 1):
            loaded = _through_snapshot(prefix, j)
            assert len(loaded) <= len(prefix)
            snap = _result(activate(program, _inp(program, loaded, prefix[-1].seq, ops)))
            assert snap == full, (ops, k, j)


def test_compaction_drops_only_what_replay_skips() -> None:
    history = record([["act", 1], ["side", 2], ["signal", 1], ["patch", 1]])
    kept = snapshot.compact(history)
    dropped = [e.type for e in history if e not in kept]
    assert dropped == ["run_started"]
    assert kept[-1] is history[-1]  # the terminal flag survives


_CMD = {"kind": "activity", "workflow": "w", "qualname": "f", "lineno": 1, "target": "a"}


def _doc(events: Any, commands: Any = (), through: int = 3) -> dict[str, Any]:
    return {"format": 1, "through_seq": through, "commands": list(commands), "events": events}


@pytest.mark.parametrize(
    ("payload", "version", "reason"),
    [
        (_doc([]), 2, "unknown format_version 2"),
        ("not a document", 1, "corrupt"),
        (_doc([], through=9), 1, "through_seq"),
        (_doc("x"), 1, "not a list"),
        (_doc([], [{"kind": "a"}]), 1, "malformed command"),
        (_doc([[1, "x"]]), 1, "is not a"),
        (_doc([[2, "x", None, None, None, {}], [1, "x", None, None, None, {}]]), 1, "out of order"),
        (_doc([[4, "x", None, None, None, {}]]), 1, "out of order or range"),
        (_doc([[1, "x", 0, 0, None, {}]]), 1, "malformed command"),
        (_doc([[1, "x", 0, None, None, {}]], [_CMD]), 1, "malformed command"),
        (_doc([[1, "x", None, None, "2", {}]]), 1, "ref_seq"),
        (_doc([[1, "x", None, None, None, []]]), 1, "data"),
        (_doc([[1, 5, None, None, None, {}]]), 1, "no type"),
    ],
)
def test_undecodable_snapshots_say_why(payload: Any, version: int, reason: str) -> None:
    with pytest.raises(snapshot.SnapshotUnusable, match=reason):
        snapshot.decode(payload, version, 3)
