"""Checkout: reserve the items, wait for the payment page's answer, then fulfil.

In the spirit of DBOS's widget store: payment arrives as a signal from the web app.
"""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import minutes


class Checkout(BaseModel):
    order_id: str
    items: dict[str, int]


class Payment(BaseModel):
    status: str
    reference: str = ""


@continuum.activity
def reserve_inventory(items: dict[str, int]) -> bool:
    return bool(items)


@continuum.activity
def undo_reservation(items: dict[str, int]) -> None:
    return None


@continuum.activity
def mark_order(order_id: str, status: str) -> None:
    return None


@continuum.activity
def dispatch(order_id: str) -> None:
    return None


@continuum.workflow
def checkout(order: Checkout) -> str:
    if not continuum.execute(reserve_inventory, order.items, compensate=None):
        continuum.execute(mark_order, order.order_id, "out-of-stock", compensate=None)
        return "out-of-stock"
    continuum.execute(
        mark_order,
        order.order_id,
        "reserved",
        compensate=continuum.compensation(undo_reservation, order.items),
    )
    continuum.set_event("payment_url", f"https://pay.example/{order.order_id}")
    try:
        payment = continuum.wait_signal("payment", timeout=minutes(15), type=Payment)
    except continuum.SignalTimeout:
        payment = Payment(status="expired")
    if payment.status != "paid":
        continuum.compensate_all()
        continuum.execute(mark_order, order.order_id, payment.status, compensate=None)
        return payment.status
    continuum.execute(mark_order, order.order_id, "paid", compensate=None)
    continuum.execute(dispatch, order.order_id, compensate=None)
    return "dispatched"
