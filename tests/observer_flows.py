"""Workflows the Observer's HTTP and browser tests drive."""

from __future__ import annotations

import threading

import continuum
from continuum import seconds

GATE = threading.Event()
"""Set it to let ``hold`` finish."""


@continuum.activity
def greet(name: str) -> str:
    return f"hello {name}"


@continuum.activity(max_attempts=1)
def explode(reason: str) -> None:
    raise ValueError(f"boom: {reason}")


@continuum.activity(max_attempts=3)
def hold() -> str:
    GATE.wait(20)
    return "released"


@continuum.workflow(name="observer.Holding")
def holding() -> str:
    return continuum.execute(hold)


@continuum.workflow(name="observer.Approval")
def approval(name: str) -> str:
    greeting = continuum.execute(greet, name)
    verdict = continuum.wait_signal("decision")
    continuum.sleep(seconds(0.05))
    return f"{greeting}: {verdict}"


@continuum.workflow(name="observer.Review")
def review(order: str) -> str:
    continuum.execute(greet, order)
    verdict = continuum.wait_signal("decision")
    continuum.wait_signal("ship")
    return f"{order}: {verdict}, shipped"


@continuum.workflow(name="observer.Exploding")
def exploding(reason: str) -> None:
    continuum.execute(explode, reason)


@continuum.workflow(name="observer.Parent")
def parent(names: list[str]) -> list[str]:
    refs = [continuum.start_child(approval, n, id=f"child-{n}") for n in names]
    return [continuum.wait_child(ref) for ref in refs]


@continuum.workflow(name="observer.Chatty")
def chatty(n: int) -> int:
    total = 0
    for _ in range(n):
        total += int(continuum.random() * 10)
    return total


FLOWS = [approval, review, exploding, parent, chatty, holding]
ACTIVITIES = [greet, explode, hold]
