"""Verify an email address: send a code, resend up to twice, give up after that."""

from __future__ import annotations

import continuum
from continuum import hours

ATTEMPTS = 3


@continuum.activity(max_attempts=3)
def send_code(email: str, attempt: int) -> None:
    return None


@continuum.activity
def mark_verified(email: str) -> None:
    return None


@continuum.workflow
def verify_email(email: str) -> bool:
    for attempt in range(1, ATTEMPTS + 1):
        continuum.execute(send_code, email, attempt)
        try:
            continuum.wait_signal("verified", timeout=hours(24))
        except continuum.SignalTimeout:
            continue
        continuum.execute(mark_verified, email)
        return True
    return False
