"""Roll daily sales up per region with a @pure aggregation step between two activities."""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel

import continuum


class Sale(BaseModel):
    region: str
    product: str
    cents: int


class Rollup(BaseModel):
    day: str
    totals: dict[str, int]
    products: dict[str, list[str]]


@continuum.activity
def fetch_sales(day: str) -> list[Sale]:
    return []


@continuum.activity
def save_rollup(rollup: Rollup) -> None:
    return None


@continuum.pure
def aggregate(day: str, sales: list[Sale]) -> Rollup:
    totals: dict[str, int] = defaultdict(int)
    products: dict[str, set[str]] = defaultdict(set)
    for sale in sales:
        totals[sale.region] += sale.cents
        products[sale.region].add(sale.product)
    return Rollup(
        day=day,
        totals=dict(sorted(totals.items())),
        products={region: sorted(names) for region, names in sorted(products.items())},
    )


@continuum.workflow
def daily_rollup(day: str) -> Rollup:
    rollup = aggregate(day, continuum.execute(fetch_sales, day))
    continuum.execute(save_rollup, rollup)
    return rollup
