"""Authorise a card now, capture it when the goods ship, void it if they never do."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import days


class Authorisation(BaseModel):
    order_id: str
    card_token: str
    amount: int


@continuum.activity(max_attempts=3)
def authorise(card_token: str, amount: int) -> str:
    return "auth-1"


@continuum.activity(max_attempts=5)
def capture(auth_id: str, amount: int) -> str:
    return "cap-1"


@continuum.activity(max_attempts=5)
def void(auth_id: str) -> None:
    return None


@continuum.workflow
def capture_on_shipment(auth: Authorisation) -> str:
    auth_id = continuum.execute(authorise, auth.card_token, auth.amount)
    try:
        shipped_amount = continuum.wait_signal("shipped", timeout=days(7))
    except continuum.SignalTimeout:
        continuum.execute(void, auth_id)
        return "voided"
    amount = min(int(shipped_amount), auth.amount)
    return continuum.execute(capture, auth_id, amount)
