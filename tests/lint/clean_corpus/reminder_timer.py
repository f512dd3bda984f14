"""Send a reminder at a chosen moment, unless it is cancelled before then."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel

import continuum


class Reminder(BaseModel):
    user: str
    text: str
    remind_at: datetime


@continuum.activity(max_attempts=3)
def push_notification(user: str, text: str) -> str:
    return f"sent to {user}"


@continuum.workflow
def reminder(rem: Reminder) -> str:
    due = rem.remind_at.astimezone(UTC)
    wait = due - continuum.now()
    if wait.total_seconds() > 0:
        try:
            continuum.wait_signal("cancel", timeout=wait)
            return "cancelled"
        except continuum.SignalTimeout:
            pass
    return continuum.execute(push_notification, rem.user, rem.text)
