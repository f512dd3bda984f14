"""Workflows and activities shared by the unit tests (module-level, like user code)."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic import BaseModel

import continuum
from continuum import hours, seconds

LEDGER: list[tuple[str, Any]] = []
FAILURES: dict[str, int] = {}


class Order(BaseModel):
    id: str
    total: int


class Charge(BaseModel):
    charge_id: str
    amount: int


@dataclasses.dataclass
class Shipment:
    order_id: str
    carrier: str


@continuum.activity(max_attempts=3, backoff=continuum.Backoff(initial=seconds(2), factor=3.0))
def flaky_charge(order_id: str, total: int) -> Charge:
    """Fails ``FAILURES[order_id]`` times before succeeding."""
    LEDGER.append(("charge", order_id))
    if FAILURES.get(order_id, 0) > 0:
        FAILURES[order_id] -= 1
        raise RuntimeError(f"card declined for {order_id}")
    return Charge(charge_id=f"ch_{order_id}", amount=total)


@flaky_charge.idempotency_key
def _(order_id: str, total: int) -> str:
    return f"capture:{order_id}"


@continuum.activity
def refund(order_id: str) -> None:
    LEDGER.append(("refund", order_id))


@continuum.activity
def reserve(item: str) -> str:
    LEDGER.append(("reserve", item))
    return f"res_{item}"


@continuum.activity
def release(item: str) -> None:
    LEDGER.append(("release", item))


@continuum.activity(max_attempts=2)
def broken_release(item: str) -> None:
    LEDGER.append(("broken_release", item))
    raise RuntimeError("warehouse offline")


@continuum.activity
def ship(order_id: str) -> Shipment:
    LEDGER.append(("ship", order_id))
    return Shipment(order_id=order_id, carrier="dhl")


@continuum.activity
def double(n: int) -> int:
    return n * 2


@continuum.activity(local=True, max_attempts=2)
def local_double(n: int) -> int:
    LEDGER.append(("local_double", n))
    return n * 2


@continuum.workflow
def order_flow(order: Order) -> str:
    charge = continuum.execute(flaky_charge, order.id, order.total)
    verdict = continuum.wait_signal("fraud_review", timeout=hours(1))
    if verdict != "approved":
        return f"rejected {charge.charge_id}"
    continuum.sleep(hours(24))
    shipment = continuum.execute(ship, order.id)
    return f"shipped {charge.charge_id} via {shipment.carrier}"


@continuum.workflow
def collect_signals(count: int) -> list[str]:
    return [continuum.wait_signal("item") for _ in range(count)]


@continuum.workflow
def two_signals(_: None) -> list[str]:
    first = continuum.wait_signal("first")
    second = continuum.wait_signal("second")
    return [first, second]


@continuum.workflow
def fan_out(n: int) -> list[int]:
    handles = [continuum.start_activity(double, i) for i in range(n)]
    return continuum.gather(*handles)


@continuum.workflow
def uses_local(n: int) -> int:
    return continuum.execute(local_double, n) + continuum.execute(double, n)


@continuum.workflow
def values(_: None) -> dict[str, Any]:
    return {
        "now": continuum.now().isoformat(),
        "today": continuum.today().isoformat(),
        "uuid": str(continuum.uuid4()),
        "random": continuum.random(),
        "side": continuum.side_effect(lambda: 41) + 1,
    }


@continuum.workflow
def swallow_suspend(_: None) -> str:
    try:
        continuum.wait_signal("never")
    except BaseException:
        pass
    return "escaped"


@continuum.workflow
def swallow_then_effect(_: None) -> str:
    try:
        continuum.wait_signal("never")
    except:
        pass
    continuum.execute(double, 1)
    return "escaped"


@continuum.workflow
def raises(_: None) -> None:
    raise ValueError("bad order state")


@continuum.workflow
def saga(items: list[str]) -> str:
    for item in items:
        continuum.execute(reserve, item, compensate=continuum.compensation(release, item))
    try:
        continuum.execute(flaky_charge, "saga", 1)
    except continuum.ActivityFailed:
        continuum.compensate_all()
        return "rolled back"
    return "done"


@continuum.workflow
def returns_model(order: Order) -> Charge:
    return Charge(charge_id=order.id, amount=order.total)


@continuum.workflow
def returns_dataclass(order_id: str) -> Shipment:
    return continuum.execute(ship, order_id)


@continuum.workflow
def bad_side_effect(_: None) -> None:
    continuum.side_effect(lambda: object())


@continuum.workflow
def bad_activity_arg(_: None) -> None:
    continuum.execute(double, object())  # type: ignore[arg-type]


@continuum.workflow
def saga_with_manual(items: list[str]) -> list[bool]:
    refs = [
        continuum.execute(reserve, item, compensate=continuum.compensation(release, item))
        for item in items
    ]
    first = continuum.compensate(refs[0])
    again = continuum.compensate(refs[0])
    return [first, again, *continuum.compensate_all()]


@continuum.workflow
def saga_parallel(items: list[str]) -> list[bool]:
    for item in items:
        continuum.execute(reserve, item, compensate=continuum.compensation(release, item))
    return continuum.compensate_all(parallel=True)


@continuum.workflow
def saga_failing_compensation(items: list[str]) -> list[bool]:
    continuum.execute(reserve, items[0], compensate=continuum.compensation(release, items[0]))
    continuum.execute(
        reserve, items[1], compensate=continuum.compensation(broken_release, items[1])
    )
    return continuum.compensate_all()


@continuum.workflow
def child_double(n: int) -> int:
    return continuum.execute(double, n)


@continuum.workflow
def child_fails(n: int) -> int:
    raise ValueError(f"child refuses {n}")


@continuum.workflow
def child_waits(_: None) -> str:
    return continuum.wait_signal("go")


@continuum.workflow
def parent(n: int) -> list[int]:
    refs = [continuum.start_child(child_double, i, id=f"item-{i}") for i in range(n)]
    direct = continuum.child(child_double, 100)
    return [continuum.wait_child(r) for r in refs] + [direct]


@continuum.workflow
def parent_of_failure(_: None) -> str:
    try:
        continuum.child(child_fails, 7)
    except continuum.ChildFailed as exc:
        return f"{exc.state}: {exc.error.get('message')}"
    return "unreachable"


@continuum.workflow
def grandparent(_: None) -> str:
    return continuum.child(middle, None)


@continuum.workflow
def middle(_: None) -> str:
    return continuum.child(child_waits, None)


@continuum.workflow
def counter(state: dict[str, int]) -> int:
    if state["n"] >= state["limit"]:
        return state["n"]
    continuum.execute(double, state["n"])
    got = continuum.wait_signal("tick") if state.get("wait") else None
    continuum.continue_as_new({**state, "n": state["n"] + 1, "last": got or 0})


@continuum.workflow
def greeter(_: None) -> str:
    name = continuum.wait_signal("name")
    return f"hello {name}"
