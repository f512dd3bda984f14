"""A "new deploy" of some workflows in flows.py: same logical names, changed bodies.

Line layout inside each function matters (identities use the offset from the def
line), so each function starts with the same decorator line count as the original.
"""

from __future__ import annotations

import continuum
from continuum import hours
from tests.unit import flows
from tests.unit.flows import Order


@continuum.workflow(name=flows.order_flow.name)
def order_flow(order: Order) -> str:
    continuum.wait_signal("fraud_review", timeout=hours(1))  # swapped with the charge
    continuum.execute(flows.flaky_charge, order.id, order.total)
    return "x"


@continuum.workflow(name=flows.fan_out.name)
def fan_out(n: int) -> list[int]:
    handles = [continuum.start_activity(flows.double, i) for i in range(n)]
    return continuum.gather(*handles[:1])  # waits for fewer: a different result


@continuum.workflow(name=flows.collect_signals.name)
def collect_signals(count: int) -> list[str]:
    return [continuum.wait_signal("item") for _ in range(count - 1)]


@continuum.workflow(name=flows.greeter.name)
def greeter(_: None) -> str:
    name = continuum.wait_signal("name")
    if continuum.patched("shout"):
        return f"HELLO {name}"
    return f"hello {name}"
