"""Find the first free slot for a meeting, hold it, and confirm when everyone accepts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from pydantic import BaseModel

import continuum
from continuum import hours, minutes


class Slot(NamedTuple):
    start: datetime
    end: datetime


class Meeting(BaseModel):
    title: str
    attendees: list[str]
    duration_minutes: int = 30


@continuum.activity
def busy_slots(attendee: str, start: str, end: str) -> list[tuple[str, str]]:
    return []


@continuum.activity
def hold(title: str, start: str, end: str, attendees: list[str]) -> str:
    return "hold-1"


@continuum.activity
def release_hold(hold_id: str) -> None:
    return None


@continuum.pure
def first_free(busy: list[Slot], start: datetime, length: timedelta) -> Slot:
    candidate = start
    for slot in sorted(busy):
        if candidate + length <= slot.start:
            break
        candidate = max(candidate, slot.end)
    return Slot(candidate, candidate + length)


@continuum.workflow
def schedule_meeting(meeting: Meeting) -> str:
    start = continuum.now().replace(minute=0, second=0, microsecond=0) + hours(1)
    horizon = start + timedelta(days=5)
    busy: list[Slot] = []
    for attendee in meeting.attendees:
        for begin, end in continuum.execute(
            busy_slots, attendee, start.isoformat(), horizon.isoformat()
        ):
            busy.append(Slot(datetime.fromisoformat(begin), datetime.fromisoformat(end)))
    slot = first_free(busy, start, minutes(meeting.duration_minutes))
    hold_id = continuum.execute(
        hold, meeting.title, slot.start.isoformat(), slot.end.isoformat(), meeting.attendees
    )
    accepted: set[str] = set()
    while len(accepted) < len(meeting.attendees):
        try:
            name, who = continuum.wait_signal(["accept", "decline"], timeout=hours(24))
        except continuum.SignalTimeout:
            break
        if name == "decline":
            break
        accepted.add(who)
    missing = sorted(a.lower() for a in set(meeting.attendees) - accepted)
    if missing:
        continuum.logger.info("no answer from %s", ", ".join(missing))
        continuum.execute(release_hold, hold_id)
        return "not scheduled"
    return slot.start.isoformat()
