"""Random workflow programs shared by the snapshot equivalence tests (unit and Postgres).

A program is a list of ``(op, n)``; one interpreter workflow runs any program, so a
hypothesis example is just an input. The ops cover what a snapshot must carry across:
activities, side effects, timers, buffered signals (mailbox positions), ``patched()``
markers, saga compensations (the pending-compensation stack), children that stay open
across activations, and parallel activities.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import continuum

DETERMINISTIC_OPS = ["act", "side", "timer", "signal", "patch", "saga", "undo", "child", "open"]
"""Ops whose journaled values are the same in two runs of the same program."""

COMPENSATED: list[int] = []  # what compensations ran, in order (a test checks it)


@continuum.activity(name="snapshot_programs.triple")
def triple(n: int) -> int:
    return n * 3


@continuum.activity(name="snapshot_programs.release")
def release(n: int) -> None:
    COMPENSATED.append(n)


@continuum.workflow(name="snapshot_programs.leaf")
def leaf(n: int) -> int:
    return int(continuum.execute(triple, n)) + 1


def interpret(ops: list[list[Any]]) -> list[Any]:
    """Run a program; returns what each op produced."""
    out: list[Any] = []
    opened: list[continuum.ChildRef[int]] = []
    for kind, n in ops:
        if kind == "act":
            out.append(continuum.execute(triple, n))
        elif kind == "side":
            out.append(continuum.side_effect(lambda n=n: n * 10))
        elif kind == "timer":
            continuum.sleep(continuum.seconds(n / 100))
            out.append("slept")
        elif kind == "signal":
            out.append(continuum.wait_signal(f"s{n}"))
        elif kind == "patch":
            out.append(continuum.patched(f"p{n}"))
        elif kind == "saga":
            ref = continuum.execute(triple, n, compensate=continuum.compensation(release, n))
            out.append(continuum.unwrap(ref))
        elif kind == "undo":
            continuum.compensate_all()
            out.append("undone")
        elif kind == "child":
            out.append(continuum.child(leaf, n))
        elif kind == "open":  # a child left open across later ops, awaited at the end
            opened.append(continuum.start_child(leaf, n))
        elif kind == "gather":
            handles = [continuum.start_activity(triple, i) for i in range(n)]
            out.append(continuum.gather(*handles))
        elif kind == "now":
            out.append(continuum.now().isoformat())
        elif kind == "uuid":
            out.append(str(continuum.uuid4()))
    out.extend(continuum.wait_child(ref) for ref in opened)
    return out


def signals_of(ops: list[list[Any]]) -> list[tuple[str, str]]:
    """The signals a program waits for, with their payloads, in order."""
    return [(f"s{n}", f"payload-{i}") for i, (kind, n) in enumerate(ops) if kind == "signal"]


def programs(kinds: list[str], max_size: int = 10) -> st.SearchStrategy[list[list[Any]]]:
    """Random programs over ``kinds``."""
    op = st.tuples(st.sampled_from(kinds), st.integers(min_value=1, max_value=3)).map(list)
    return st.lists(op, min_size=1, max_size=max_size)
