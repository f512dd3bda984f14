"""Workflows of the orders example.

- ``order_flow``: reserve stock, charge, wait for a fraud review (a signal, with a
  timeout), wait a cooling-off period (a durable timer), ship. Rejection or failure
  rolls back with compensations, most recent first.
- ``batch_flow``: a parent that fans orders out to child runs and collects receipts.
- ``subscription_flow``: bills a cycle, sleeps until the next, and continues as new so
  its history never grows.
"""

from __future__ import annotations

from datetime import timedelta

import continuum
from continuum.examples.orders.activities import (
    bill_cycle,
    charge,
    refund,
    release_stock,
    reserve_stock,
    send_email,
    ship,
)
from continuum.examples.orders.models import Order, Receipt, Subscription

REVIEW_TIMEOUT = timedelta(hours=1)
COOLING_OFF = timedelta(seconds=2)
BILLING_PERIOD = timedelta(seconds=1)


@continuum.pure
def total_of(order: Order) -> int:
    """The order total in cents."""
    return sum(line.quantity * line.unit_price for line in order.lines)


@continuum.workflow(name="orders.OrderFlow", version=1)
def order_flow(order: Order) -> Receipt:
    """One order, from reservation to shipping, with a saga behind it."""
    continuum.execute(
        reserve_stock,
        order.id,
        order.lines,
        compensate=continuum.compensation(release_stock, order.id),
    )
    try:
        paid = continuum.execute(
            charge, order.id, total_of(order), compensate=continuum.compensation(refund, order.id)
        )
    except continuum.ActivityFailed:
        continuum.compensate_all()
        return Receipt(order_id=order.id, status="payment_failed")
    try:
        verdict = continuum.wait_signal("fraud_review", timeout=REVIEW_TIMEOUT)
    except continuum.SignalTimeout:
        verdict = "timeout"
    if verdict != "approved":
        continuum.compensate_all()
        continuum.execute(send_email, order.customer, "your order was cancelled", compensate=None)
        return Receipt(order_id=order.id, status=f"rejected ({verdict})")
    continuum.sleep(COOLING_OFF)
    tracking = continuum.execute(ship, order.id, compensate=None)
    continuum.execute(send_email, order.customer, f"shipped: {tracking}", compensate=None)
    return Receipt(
        order_id=order.id, status="shipped", charge_id=paid.result.charge_id, tracking=tracking
    )


@continuum.workflow(name="orders.BatchFlow")
def batch_flow(orders: list[Order]) -> list[Receipt]:
    """Fan out one child run per order, then collect every receipt in order."""
    refs = [continuum.start_child(order_flow, order, id=order.id) for order in orders]
    return [continuum.wait_child(ref) for ref in refs]


@continuum.workflow(name="orders.SubscriptionFlow")
def subscription_flow(sub: Subscription) -> str:
    """Bill one cycle, wait for the next, and continue as new (bounded history)."""
    if sub.cycle >= sub.cycles:
        return f"{sub.customer}: {sub.cycles} cycles billed"
    continuum.execute(bill_cycle, sub.customer, sub.plan, sub.cycle + 1, compensate=None)
    continuum.sleep(BILLING_PERIOD)
    continuum.continue_as_new(sub.model_copy(update={"cycle": sub.cycle + 1}))
