"""Journal events: what a run's history is made of.

An event is either a *command* (it carries the command identity of the call site
that issued it and is matched in order during replay), a *resolution* (it carries
``ref_seq``, the seq of the command it resolves, and is looked up by that seq), or
a lifecycle marker (``run_started``, ``run_completed``, ...), which replay skips.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

CommandKey = tuple[str, str, int, int, str]
"""``(kind, qualname, lineno, ordinal, target)``: what replay compares."""

# Command event types.
ACTIVITY_SCHEDULED = "activity_scheduled"
COMPENSATION_SCHEDULED = "compensation_scheduled"
TIMER_STARTED = "timer_started"
SIGNAL_AWAITED = "signal_awaited"
SIGNAL_RECEIVED = "signal_received"  # a command on the fast path, else a resolution
SIDE_EFFECT = "side_effect"
PATCHED = "patched"
CHILD_STARTED = "child_started"
RUN_CONTINUED_AS_NEW = "run_continued_as_new"
EVENT_SET = "event_set"
UPDATE_AWAITED = "update_awaited"
UPDATE_RECEIVED = "update_received"  # a command on the fast path, else a resolution
UPDATE_REPLIED = "update_replied"
UPDATE_REJECTED = "update_rejected"

# Resolution event types.
ACTIVITY_COMPLETED = "activity_completed"
ACTIVITY_FAILED = "activity_failed"
COMPENSATION_COMPLETED = "compensation_completed"
COMPENSATION_FAILED = "compensation_failed"
TIMER_FIRED = "timer_fired"
SIGNAL_TIMED_OUT = "signal_timed_out"
UPDATE_TIMED_OUT = "update_timed_out"
CHILD_COMPLETED = "child_completed"
CHILD_FAILED = "child_failed"
CHILD_CANCELLED = "child_cancelled"

# Lifecycle markers.
RUN_STARTED = "run_started"
RUN_COMPLETED = "run_completed"
RUN_FAILED = "run_failed"
RUN_CANCELLED = "run_cancelled"
# Cooperative cancellation reached the workflow (data: ``at_seq``, the wait it interrupted).
CANCEL_DELIVERED = "cancel_delivered"

TERMINAL_EVENTS = frozenset({RUN_COMPLETED, RUN_FAILED, RUN_CANCELLED, RUN_CONTINUED_AS_NEW})


class Event:
    """One journaled event. ``to_json``/``from_json`` give the public history format."""

    __slots__ = ("command", "data", "inserted_at", "key", "ref_seq", "seq", "type")

    def __init__(
        self,
        seq: int,
        type: str,
        *,
        command: dict[str, Any] | None = None,
        ref_seq: int | None = None,
        data: dict[str, Any] | None = None,
        inserted_at: datetime | str | None = None,
    ) -> None:
        self.seq = seq
        self.type = type
        self.command = command
        self.ref_seq = ref_seq
        self.data = data if data is not None else {}
        self.inserted_at = inserted_at
        self.key: CommandKey | None = (
            (
                command["kind"],
                command["qualname"],
                command["lineno"],
                command["ordinal"],
                command["target"],
            )
            if command is not None
            else None
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON-ready dict form used by ``Client.history`` and golden files."""
        out: dict[str, Any] = {"seq": self.seq, "type": self.type}
        if self.command is not None:
            out["command"] = self.command
        if self.ref_seq is not None:
            out["ref_seq"] = self.ref_seq
        out["data"] = self.data
        if isinstance(self.inserted_at, datetime):
            out["inserted_at"] = self.inserted_at.isoformat()
        elif self.inserted_at is not None:
            out["inserted_at"] = self.inserted_at
        return out

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Event:
        """Parse the dict form (as produced by :meth:`to_json`).

        This is on the replay hot path, so it skips ``__init__`` and keeps
        ``inserted_at`` as given (replay never reads it).
        """
        ev = cls.__new__(cls)
        ev.seq = raw["seq"]
        ev.type = raw["type"]
        command = raw.get("command")
        ev.command = command
        ev.ref_seq = raw.get("ref_seq")
        ev.data = raw.get("data") or {}
        ev.inserted_at = raw.get("inserted_at")
        ev.key = (
            (
                command["kind"],
                command["qualname"],
                command["lineno"],
                command["ordinal"],
                command["target"],
            )
            if command is not None
            else None
        )
        return ev

    def __repr__(self) -> str:
        return f"<Event {self.seq} {self.type}>"


def describe_command(command: dict[str, Any] | None) -> str:
    """A human description with file:line, e.g. ``activity 'charge' at flows.py:31``."""
    if command is None:
        return "no command"
    target = f" {command['target']!r}" if command.get("target") else ""
    where = f"{command.get('file', '?')}:{command.get('line', '?')}"
    return (
        f"{command['kind']}{target} from {command['qualname']} "
        f"(line +{command['lineno']}, call #{command['ordinal']}) at {where}"
    )
