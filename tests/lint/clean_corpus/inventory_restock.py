"""Watch a SKU's stock level daily and reorder from the supplier when it runs low."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import days, hours

CHECKS_PER_RUN = 30


class Watch(BaseModel):
    sku: str
    threshold: int
    reorder_quantity: int
    open_po: str | None = None


@continuum.activity
def stock_level(sku: str) -> int:
    return 3


@continuum.activity(max_attempts=3)
def place_purchase_order(sku: str, quantity: int) -> str:
    return f"po-{sku}"


@continuum.activity
def po_received(po: str) -> bool:
    return True


@continuum.workflow
def restock(watch: Watch) -> None:
    open_po = watch.open_po
    for _ in range(CHECKS_PER_RUN):
        if open_po is not None:
            if continuum.execute(po_received, open_po):
                open_po = None
            else:
                continuum.sleep(hours(6))
                continue
        if continuum.execute(stock_level, watch.sku) < watch.threshold:
            open_po = continuum.execute(place_purchase_order, watch.sku, watch.reorder_quantity)
        continuum.sleep(days(1))
    continuum.continue_as_new(watch.model_copy(update={"open_po": open_po}))
