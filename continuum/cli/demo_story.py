"""The demo's narrator: tells a run's story from its journal, in journal order.

Telemetry arrives from several threads (the run's commit, the activity that the commit
scheduled), so a story told from it can print an activity's output before the timer that
led to it. The journal is ordered by construction; the narrator reads it, and holds each
activity's own printout until the journal shows that activity finishing.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any


def short(activity: str) -> str:
    """``module:function`` → ``function``."""
    return activity.rsplit(":", 1)[-1]


class ActivityOutput:
    """Collects what the example's activities print, per activity, until it is told."""

    def __init__(self) -> None:
        self._lines: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()

    def say(self, activity: str, area: str, text: str) -> None:
        """The example activities' printer while the demo runs."""
        with self._lock:
            self._lines[activity].append(f"  [{area}] {text}")

    def take(self, activity: str) -> list[str]:
        """Everything ``activity`` printed so far (then forgotten)."""
        with self._lock:
            return self._lines.pop(short(activity), [])


class Narrator:
    """Prints the journal's new events as story lines, oldest first."""

    def __init__(self, echo: Callable[[str], None], output: ActivityOutput) -> None:
        self.echo = echo
        self.output = output
        self.seen = 0
        self._scheduled: dict[int, str] = {}

    def skip(self, events: list[dict[str, Any]]) -> None:
        """Mark ``events`` as told (a resumed run's past), remembering their activities."""
        for ev in events:
            self._remember(ev)
        self.seen = max((int(ev["seq"]) for ev in events), default=self.seen)

    def tell(self, events: list[dict[str, Any]]) -> None:
        """Print every event after the last one told."""
        for ev in events:
            if int(ev["seq"]) <= self.seen:
                continue
            self.seen = int(ev["seq"])
            self._remember(ev)
            line = self._line(ev)
            if line:
                self.echo(f"• {line}")

    def _remember(self, ev: dict[str, Any]) -> None:
        activity = (ev.get("data") or {}).get("activity")
        if activity:
            self._scheduled[int(ev["seq"])] = str(activity)

    def _line(self, ev: dict[str, Any]) -> str | None:
        data = ev.get("data") or {}
        kind = ev["type"]
        activity = self._scheduled.get(int(ev.get("ref_seq") or 0), "")
        if kind in ("activity_completed", "compensation_completed", "activity_failed"):
            for line in self.output.take(activity):
                self.echo(line)
        stories = {
            "run_started": "workflow started",
            "activity_scheduled": f"activity scheduled: {short(str(data.get('activity')))}",
            "compensation_scheduled": f"compensation scheduled: {short(str(data.get('activity')))}",
            "activity_completed": f"activity finished: {short(activity)}",
            "activity_failed": f"activity failed: {short(activity)}",
            "compensation_completed": f"compensation finished: {short(activity)}",
            "signal_awaited": f"waiting durably for signal {data.get('name')!r}",
            "signal_received": f"signal received: {data.get('name')} = {data.get('payload')!r}",
            "signal_timed_out": "signal wait timed out",
            "timer_started": f"durable timer started (fires at {data.get('fire_at')})",
            "timer_fired": "timer fired",
            "run_completed": "workflow completed",
            "run_failed": f"workflow failed: {(data.get('error') or {}).get('message')}",
            "run_cancelled": "workflow cancelled",
        }
        return stories.get(kind)
