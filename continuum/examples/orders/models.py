"""Payloads of the orders example: pydantic models, journaled as JSON."""

from __future__ import annotations

from pydantic import BaseModel


class Line(BaseModel):
    sku: str
    quantity: int
    unit_price: int  # cents


class Order(BaseModel):
    id: str
    customer: str
    lines: list[Line]


class Charge(BaseModel):
    charge_id: str
    amount: int


class Receipt(BaseModel):
    order_id: str
    status: str
    charge_id: str | None = None
    tracking: str | None = None


class Subscription(BaseModel):
    customer: str
    plan: str
    cycle: int = 0
    cycles: int = 3
