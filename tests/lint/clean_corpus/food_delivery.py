"""A delivery's lifecycle as a state machine driven by signals from the courier app."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel

import continuum
from continuum import minutes


class State(StrEnum):
    PLACED = "placed"
    ACCEPTED = "accepted"
    PICKED_UP = "picked_up"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


NEXT = {
    State.PLACED: State.ACCEPTED,
    State.ACCEPTED: State.PICKED_UP,
    State.PICKED_UP: State.DELIVERED,
}
LIMITS = {State.PLACED: 10, State.ACCEPTED: 30, State.PICKED_UP: 60}


class Delivery(BaseModel):
    delivery_id: str
    customer: str


@continuum.activity
def notify_customer(customer: str, state: str) -> None:
    return None


@continuum.activity
def refund_order(delivery_id: str) -> None:
    return None


@continuum.workflow
def delivery(order: Delivery) -> str:
    state = State.PLACED
    while state in NEXT:
        expected = NEXT[state]
        try:
            continuum.wait_signal(expected.value, timeout=minutes(LIMITS[state]))
        except continuum.SignalTimeout:
            continuum.execute(refund_order, order.delivery_id)
            continuum.execute(notify_customer, order.customer, State.CANCELLED.value)
            return State.CANCELLED.value
        state = expected
        continuum.set_event("state", state.value)
        continuum.execute(notify_customer, order.customer, state.value)
    return state.value
