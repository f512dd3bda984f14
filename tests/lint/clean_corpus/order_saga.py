"""Order fulfilment as a saga: reserve stock, charge, ship; undo in reverse on failure."""

from __future__ import annotations

from dataclasses import dataclass, field

import continuum
from continuum import minutes, seconds


@dataclass
class Line:
    sku: str
    quantity: int
    unit_price: int


@dataclass
class Order:
    order_id: str
    customer: str
    lines: list[Line] = field(default_factory=list)


@continuum.activity(max_attempts=3)
def reserve_stock(order_id: str, sku: str, quantity: int) -> str:
    return f"res-{order_id}-{sku}"


@continuum.activity(max_attempts=3)
def release_stock(reservation: str) -> None:
    return None


@continuum.activity(max_attempts=3, timeout=seconds(30))
def charge_card(customer: str, amount: int) -> str:
    return f"ch-{customer}-{amount}"


@continuum.activity(max_attempts=3)
def refund_card(customer: str, amount: int) -> None:
    return None


@continuum.activity(max_attempts=10, timeout=minutes(5))
def ship(order_id: str) -> str:
    return f"track-{order_id}"


@continuum.activity
def email_customer(customer: str, message: str) -> None:
    return None


@continuum.pure
def order_total(lines: list[Line]) -> int:
    return sum(line.quantity * line.unit_price for line in lines)


@continuum.workflow(version=2)
def place_order(order: Order) -> str:
    try:
        for line in order.lines:
            reservation = continuum.execute(
                reserve_stock,
                order.order_id,
                line.sku,
                line.quantity,
                compensate=continuum.compensation(release_stock, f"res-{order.order_id}"),
            )
            continuum.logger.info("reserved %s", continuum.unwrap(reservation))
        total = order_total(order.lines)
        continuum.execute(
            charge_card,
            order.customer,
            total,
            idempotency_key=f"charge:{order.order_id}",
            compensate=continuum.compensation(refund_card, order.customer, total),
        )
        tracking = continuum.execute(ship, order.order_id, compensate=None)
    except continuum.ActivityFailed as failure:
        continuum.compensate_all()
        message = f"order {order.order_id} failed: {failure}"
        continuum.execute(email_customer, order.customer, message, compensate=None)
        raise
    continuum.execute(email_customer, order.customer, f"shipped: {tracking}", compensate=None)
    return tracking
