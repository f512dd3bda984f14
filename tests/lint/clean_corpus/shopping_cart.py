"""A shopping cart held in a workflow: add/remove signals until checkout or abandonment."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import hours


class Cart(BaseModel):
    customer: str
    items: dict[str, int] = {}


class Change(BaseModel):
    sku: str
    quantity: int = 1


@continuum.activity
def remind_abandoned(customer: str, skus: list[str]) -> None:
    return None


@continuum.activity
def create_order(customer: str, items: dict[str, int]) -> str:
    return f"order-{customer}"


@continuum.pure
def apply_change(items: dict[str, int], change: Change, sign: int) -> dict[str, int]:
    updated = dict(items)
    quantity = updated.get(change.sku, 0) + sign * change.quantity
    if quantity > 0:
        updated[change.sku] = quantity
    else:
        updated.pop(change.sku, None)
    return updated


@continuum.workflow
def shopping_cart(cart: Cart) -> str:
    items = dict(cart.items)
    reminded = False
    while True:
        try:
            name, payload = continuum.wait_signal(["add", "remove", "checkout"], timeout=hours(24))
        except continuum.SignalTimeout:
            if reminded or not items:
                return "abandoned"
            continuum.execute(remind_abandoned, cart.customer, sorted(items))
            reminded = True
            continue
        if name == "checkout":
            return continuum.execute(create_order, cart.customer, items)
        change = Change.model_validate(payload)
        items = apply_change(items, change, 1 if name == "add" else -1)
        continuum.set_event("cart", items)
