"""Onboarding emails over the first two weeks, stopping early when the user activates."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import days

SCHEDULE = (("welcome", 0), ("tips", 1), ("case-study", 3), ("check-in", 7), ("offer", 14))


class NewUser(BaseModel):
    user_id: str
    email: str


@continuum.activity(max_attempts=3)
def send_template(email: str, template: str) -> None:
    return None


@continuum.workflow
def onboarding(user: NewUser) -> list[str]:
    sent: list[str] = []
    previous_day = 0
    for template, day in SCHEDULE:
        if day > previous_day:
            try:
                continuum.wait_signal("activated", timeout=days(day - previous_day))
                return sent
            except continuum.SignalTimeout:
                previous_day = day
        continuum.execute(send_template, user.email, template)
        sent.append(template)
    return sent
