"""Subscription renewal where the input types carry their own business rules as methods.

The workflow calls methods of its input (a pydantic model and a dataclass defined in
this module); the scanner checks those methods like same-module helpers.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

import continuum
from continuum import days


class Plan(BaseModel):
    customer: str
    price_cents: int
    cycle: int = 0
    discount_cycles: int = 3

    def price_for_cycle(self) -> int:
        if self.cycle < self.discount_cycles:
            return self.price_cents // 2
        return self.price_cents

    def next_cycle(self) -> Plan:
        return self.model_copy(update={"cycle": self.cycle + 1})


@dataclass
class Basket:
    customer: str
    line_cents: list[int]

    def total(self) -> int:
        return sum(self.line_cents)


@continuum.activity(max_attempts=3)
def bill(customer: str, cents: int) -> str:
    return f"inv-{customer}-{cents}"


@continuum.workflow
def renew(plan: Plan) -> str:
    invoice = continuum.execute(bill, plan.customer, plan.price_for_cycle())
    try:
        continuum.wait_signal("cancel", timeout=days(30))
        return invoice
    except continuum.SignalTimeout:
        continuum.continue_as_new(plan.next_cycle())


@continuum.workflow
def charge_basket(basket: Basket) -> str:
    return continuum.execute(bill, basket.customer, basket.total())
