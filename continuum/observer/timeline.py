"""Journal events as rows of the Observer's timeline (decoded, categorised, summarised)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from continuum.engine.events import Event

_MAX_DETAIL = 4000
_CATEGORIES = (
    ("compensation", "compensation"),
    ("activity", "activity"),
    ("signal", "signal"),
    ("timer", "timer"),
    ("child", "child"),
    ("continued", "lineage"),
    ("patched", "patched"),
    ("side_effect", "side-effect"),
    ("run_", "lifecycle"),
)


@dataclass(frozen=True)
class TimelineRow:
    """One decoded event."""

    seq: int
    type: str
    category: str
    summary: str
    site: str | None
    ref_seq: int | None
    at: str | None
    detail: str
    failed: bool

    def to_json(self) -> dict[str, Any]:
        """The row as a JSON-ready dict."""
        return {
            "seq": self.seq,
            "type": self.type,
            "category": self.category,
            "summary": self.summary,
            "site": self.site,
            "ref_seq": self.ref_seq,
            "at": self.at,
        }


def category(event_type: str) -> str:
    """The colour group of an event type."""
    for prefix, name in _CATEGORIES:
        if prefix in event_type:
            return name
    return "other"


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary(ev: Event) -> str:
    data = ev.data or {}
    cmd = ev.command
    if cmd is not None:
        target = f" {cmd.get('target')}" if cmd.get("target") else ""
        return f"{cmd.get('kind', ev.type)}{target}"
    parts: list[str] = []
    if ev.ref_seq is not None:
        parts.append(f"for #{ev.ref_seq}")
    error = data.get("error")
    if isinstance(error, dict):
        parts.append(f"{error.get('type', 'error')}: {error.get('message', '')}")
    elif "result" in data:
        parts.append(f"result {_short(data['result'])}")
    elif "payload" in data:
        parts.append(f"payload {_short(data['payload'])}")
    return " ".join(parts)


def _detail(data: Any) -> str:
    text = json.dumps(data, default=str, indent=2, sort_keys=True)
    if len(text) > _MAX_DETAIL:
        return text[:_MAX_DETAIL] + f"\n… ({len(text) - _MAX_DETAIL} more characters)"
    return text


def row(ev: Event) -> TimelineRow:
    """Decode one event."""
    cmd = ev.command
    site = None
    if cmd is not None and cmd.get("file"):
        site = f"{cmd['file']}:{cmd.get('line', '?')}"
    at = ev.inserted_at.isoformat() if isinstance(ev.inserted_at, datetime) else ev.inserted_at
    data = ev.data or {}
    return TimelineRow(
        seq=ev.seq,
        type=ev.type,
        category=category(ev.type),
        summary=_summary(ev),
        site=site,
        ref_seq=ev.ref_seq,
        at=at,
        detail=_detail(data) if data else "",
        failed=ev.type.endswith("_failed") or ev.type == "signal_timed_out",
    )


def rows(events: list[Event]) -> list[TimelineRow]:
    """Decode a page of events."""
    return [row(ev) for ev in events]
