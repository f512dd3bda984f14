"""Snapshots: a run's replay state through some seq, stored as one compact document.

What replay reads
-----------------
The engine re-executes the workflow function from its first line on every activation;
the only thing it reads from the history is what :class:`~continuum.engine.context.
RunContext` builds from ``ActivationInput.events``:

1. the *command* events (those carrying a command identity), in seq order — the cursor
   every effect is matched against;
2. the *resolution* events (those carrying ``ref_seq``), by the seq they resolve (a later
   one for the same ``ref_seq`` wins);
3. whether the last event is terminal (re-executing a finished history);
4. where a cooperative cancel was delivered (``cancel_delivered`` markers, SPEC §13): a
   marker has neither a command nor a ``ref_seq``, but replay raises ``Cancelled`` at
   the wait it interrupted, so it is kept like a command.

Everything else is a lifecycle marker replay skips (``run_started``, ...). Saga stacks,
``patched()`` decisions, open children and mailbox positions are not separate state: the
re-executed code rebuilds them from the commands and resolutions above (a ``patched``
marker is a command; a compensation is an activity command; a consumed signal is a
``signal_received`` event; an open child is a ``child_started`` command whose
resolution has not been journaled yet).

The snapshot
------------
:func:`compact` keeps exactly the events of kinds 1, 2 and 4, in order, plus the last
event (for 3), and drops the rest. ``RunContext`` built from
``compact(events[:k]) + events[k:]`` therefore holds the same command list, the same
resolution map and the same terminal flag as one built from ``events`` — so the
activation is the same function call on the same values, and its result is the same.
The rule is about *shape* (has a command / has ``ref_seq``), not about event type names,
so event kinds added later are kept without a change here.

A snapshot is stored as JSON with a ``format_version`` (see :func:`encode` for the
layout; command identities are stored once each, not once per event). :func:`decode`
accepts only the formats it knows and validates the document's structure; anything
else raises :class:`SnapshotUnusable`, and the caller replays the full history instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from continuum.engine.events import CANCEL_DELIVERED, Event

FORMAT_VERSION = 1
"""The snapshot document format this code writes."""

SUPPORTED_FORMATS = (1,)
"""The formats this code can read (older nodes skip newer formats)."""

_COMMAND_FIELDS = ("kind", "qualname", "lineno", "ordinal", "target")


class SnapshotUnusable(Exception):
    """A stored snapshot that cannot be used; ``reason`` says why (for telemetry)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def compact(events: Sequence[Event]) -> list[Event]:
    """The events replay reads (commands and resolutions, in order), plus the last one."""
    if not events:
        return []
    kept = [
        ev
        for ev in events[:-1]
        if ev.command is not None or ev.ref_seq is not None or ev.type == CANCEL_DELIVERED
    ]
    kept.append(events[-1])
    return kept


def encode(events: Iterable[Event], through_seq: int) -> dict[str, Any]:
    """The snapshot document of ``events`` (already compacted), valid through ``through_seq``.

    Command identities repeat (a loop issues the same call site with a growing
    ordinal), so each distinct command minus its ordinal is stored once, in
    ``commands``, and an event row refers to it by index:
    ``[seq, type, command index or null, ordinal, ref_seq, data]``.
    """
    index: dict[str, int] = {}
    commands: list[dict[str, Any]] = []
    rows: list[list[Any]] = []
    for e in events:
        ref: int | None = None
        ordinal = None
        if e.command is not None:
            template = {k: v for k, v in e.command.items() if k != "ordinal"}
            key = json.dumps(template, sort_keys=True, separators=(",", ":"))
            ref = index.get(key)
            if ref is None:
                ref = index[key] = len(commands)
                commands.append(template)
            ordinal = e.command["ordinal"]
        rows.append([e.seq, e.type, ref, ordinal, e.ref_seq, e.data])
    return {
        "format": FORMAT_VERSION,
        "through_seq": through_seq,
        "commands": commands,
        "events": rows,
    }


def decode(payload: Any, format_version: int, through_seq: int) -> list[Event]:
    """The events of a stored snapshot, or :class:`SnapshotUnusable` with the reason."""
    if format_version not in SUPPORTED_FORMATS:
        raise SnapshotUnusable(f"unknown format_version {format_version}")
    if not isinstance(payload, dict) or payload.get("format") != format_version:
        raise SnapshotUnusable("corrupt: not a snapshot document of its format_version")
    if payload.get("through_seq") != through_seq:
        raise SnapshotUnusable("corrupt: through_seq does not match the snapshot's seq")
    commands = payload.get("commands")
    rows = payload.get("events")
    if not isinstance(commands, list) or not isinstance(rows, list):
        raise SnapshotUnusable("corrupt: commands or events is not a list")
    for template in commands:
        if not isinstance(template, dict) or any(
            f not in template for f in _COMMAND_FIELDS if f != "ordinal"
        ):
            raise SnapshotUnusable("corrupt: a malformed command")
    # (kind, qualname, lineno, target) of each command: its replay key minus the ordinal.
    keys = [(t["kind"], t["qualname"], t["lineno"], t["target"]) for t in commands]
    out: list[Event] = []
    last = 0
    n_commands = len(commands)
    new = Event.__new__
    for row in rows:
        # Hot path (one iteration per event of a long history): checks are inlined.
        if type(row) is not list or len(row) != 6:
            raise SnapshotUnusable(
                "corrupt: an event is not a [seq, type, command, ordinal, ref_seq, data]"
            )
        seq, kind, ref, ordinal, ref_seq, data = row
        if type(seq) is not int or not last < seq <= through_seq:
            raise SnapshotUnusable(f"corrupt: event seq {seq!r} out of order or range")
        if type(kind) is not str:
            raise SnapshotUnusable(f"corrupt: event {seq} has no type")
        ev = new(Event)
        if ref is not None:
            if type(ref) is not int or not 0 <= ref < n_commands or type(ordinal) is not int:
                raise SnapshotUnusable(f"corrupt: event {seq} has a malformed command")
            ev.command = {**commands[ref], "ordinal": ordinal}
            k = keys[ref]
            ev.key = (k[0], k[1], k[2], ordinal, k[3])
        else:
            ev.command = ev.key = None
        if ref_seq is not None and type(ref_seq) is not int:
            raise SnapshotUnusable(f"corrupt: event {seq} has a malformed ref_seq")
        if data is not None and type(data) is not dict:
            raise SnapshotUnusable(f"corrupt: event {seq} has malformed data")
        # As Event.from_json does: skip __init__ on this hot path, set every slot.
        ev.seq, ev.type, ev.ref_seq, ev.inserted_at = seq, kind, ref_seq, None
        ev.data = data if data is not None else {}
        out.append(ev)
        last = seq
    return out
