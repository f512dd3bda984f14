"""Activities of the orders example: the only code here that touches the world.

They print what they do so ``continuum demo`` can show the story as it happens. A real
app would call a payment provider, a warehouse and a mailer here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import continuum
from continuum import minutes, seconds
from continuum.examples.orders.models import Charge, Line


def _print(activity: str, area: str, text: str) -> None:
    print(f"  [{area}] {text}", flush=True)


# Where the activities report what they did; ``continuum demo`` replaces it to tell the
# lines in journal order (see continuum/cli/demo_story.py).
say: Callable[[str, str, str], None] = _print


def _say(area: str, text: str) -> None:
    say(sys._getframe(1).f_code.co_name, area, text)  # the activity that is speaking


@continuum.activity(
    max_attempts=3,
    timeout=seconds(30),
    backoff=continuum.Backoff(initial=seconds(1), max=minutes(1)),
)
def charge(order_id: str, amount: int) -> Charge:
    """Capture the payment for an order."""
    _say("payments", f"charged {amount / 100:.2f} EUR for {order_id}")
    return Charge(charge_id=f"ch_{order_id}", amount=amount)


@charge.idempotency_key
def _charge_key(order_id: str, amount: int) -> str:
    return f"capture:{order_id}"


@continuum.activity(max_attempts=5)
def refund(order_id: str) -> None:
    """Give the money back (the compensation of ``charge``)."""
    _say("payments", f"refunded {order_id}")


@refund.idempotency_key
def _refund_key(order_id: str) -> str:
    return f"refund:{order_id}"


@continuum.activity(max_attempts=3)
def reserve_stock(order_id: str, lines: list[Line]) -> str:
    """Hold the items in the warehouse."""
    _say("warehouse", f"reserved {sum(line.quantity for line in lines)} item(s) for {order_id}")
    return f"res_{order_id}"


@continuum.activity(max_attempts=3)
def release_stock(order_id: str) -> None:
    """Put the items back (the compensation of ``reserve_stock``)."""
    _say("warehouse", f"released the reservation of {order_id}")


@continuum.activity(max_attempts=3)
def ship(order_id: str) -> str:
    """Hand the parcel to the carrier."""
    _say("shipping", f"shipped {order_id}")
    return f"TRACK-{order_id.upper()}"


@continuum.activity(local=True)
def send_email(customer: str, subject: str) -> None:
    """Tell the customer (a fast local activity, journaled with the workflow step)."""
    _say("email", f"to {customer}: {subject}")


@continuum.activity(max_attempts=3)
def bill_cycle(customer: str, plan: str, cycle: int) -> str:
    """Invoice one subscription cycle."""
    _say("billing", f"invoiced {customer} for {plan}, cycle {cycle}")
    return f"inv_{customer}_{cycle}"
