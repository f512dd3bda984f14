"""Sagas, child workflows and continue_as_new through a real Worker and Client on Postgres."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest

import continuum
from continuum.client import Client
from continuum.runtime.worker import Worker

LEDGER: list[str] = []
_lock = threading.Lock()


def _log(entry: str) -> None:
    with _lock:
        LEDGER.append(entry)


@continuum.activity
def reserve(item: str) -> str:
    _log(f"reserve:{item}")
    return f"res-{item}"


@continuum.activity
def release(item: str) -> None:
    _log(f"release:{item}")


@continuum.activity(max_attempts=2, backoff=continuum.Backoff(initial=continuum.seconds(0.01)))
def release_broken(item: str) -> None:
    _log(f"release_broken:{item}")
    raise RuntimeError("warehouse offline")


@continuum.activity(max_attempts=2, backoff=continuum.Backoff(initial=continuum.seconds(0.01)))
def pay(item: str) -> str:
    _log(f"pay:{item}")
    raise RuntimeError("card declined")


@continuum.workflow(name="it.saga_lifo")
def saga_lifo(items: list[str]) -> str:
    for item in items:
        continuum.execute(reserve, item, compensate=continuum.compensation(release, item))
    try:
        continuum.execute(pay, items[0], compensate=None)
    except continuum.ActivityFailed:
        continuum.compensate_all()
        return "rolled back"
    return "paid"


@continuum.workflow(name="it.cleanup_in_finally")
def cleanup_in_finally(items: list[str]) -> str:
    try:
        if items[0] == "fail":
            continuum.execute(pay, items[0], compensate=None)
        return continuum.execute(reserve, items[0], compensate=None)
    finally:
        continuum.execute(release, items[0], compensate=None)


@continuum.workflow(name="it.saga_manual")
def saga_manual(items: list[str]) -> list[bool]:
    refs = [
        continuum.execute(reserve, i, compensate=continuum.compensation(release, i)) for i in items
    ]
    return [
        continuum.compensate(refs[0]),
        continuum.compensate(refs[0]),
        *continuum.compensate_all(),
    ]


@continuum.workflow(name="it.saga_parallel")
def saga_parallel(items: list[str]) -> list[bool]:
    for item in items:
        continuum.execute(reserve, item, compensate=continuum.compensation(release, item))
    return continuum.compensate_all(parallel=True)


@continuum.workflow(name="it.saga_failing_comp")
def saga_failing_comp(items: list[str]) -> list[bool]:
    continuum.execute(reserve, items[0], compensate=continuum.compensation(release, items[0]))
    continuum.execute(
        reserve, items[1], compensate=continuum.compensation(release_broken, items[1])
    )
    return continuum.compensate_all()


@continuum.workflow(name="it.child_double")
def child_double(n: int) -> int:
    return n * 2


@continuum.workflow(name="it.child_fails")
def child_fails(n: int) -> int:
    raise ValueError(f"child refuses {n}")


@continuum.workflow(name="it.child_waits")
def child_waits(_: None) -> str:
    return str(continuum.wait_signal("go"))


@continuum.workflow(name="it.parent")
def parent(n: int) -> list[int]:
    refs = [continuum.start_child(child_double, i, id=f"c{i}") for i in range(n)]
    return [continuum.wait_child(r) for r in refs]


@continuum.workflow(name="it.parent_of_failure")
def parent_of_failure(_: None) -> str:
    try:
        continuum.child(child_fails, 7)
    except continuum.ChildFailed as exc:
        return f"{exc.state}: {exc.error.get('message')}"
    return "unreachable"


@continuum.workflow(name="it.grandparent")
def grandparent(_: None) -> str:
    return continuum.child(middle, None)


@continuum.workflow(name="it.middle")
def middle(_: None) -> str:
    return continuum.child(child_waits, None)


@continuum.workflow(name="it.counter")
def counter(state: dict[str, int]) -> int:
    if state["n"] >= state["limit"]:
        return state["n"] + state.get("got", 0)
    got = continuum.wait_signal("tick") if state.get("wait") else 0
    continuum.continue_as_new({**state, "n": state["n"] + 1, "got": state.get("got", 0) + got})


FLOWS = [
    saga_lifo,
    saga_manual,
    saga_parallel,
    saga_failing_comp,
    child_double,
    child_fails,
    child_waits,
    parent,
    parent_of_failure,
    grandparent,
    middle,
    counter,
    cleanup_in_finally,
]


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    LEDGER.clear()
    with (
        Client(pg_dsn, instance=f"rw-{uuid.uuid4().hex[:8]}") as c,
        Worker(c, workflows=FLOWS, poll_interval=0.5),
    ):
        yield c


def _types(client: Client, run_id: str) -> list[str]:
    return [e["type"] for e in client.history(run_id)]


def test_saga_compensates_in_lifo_order(client: Client) -> None:
    run_id = client.start(saga_lifo, ["a", "b", "c"])
    assert client.result(run_id, timeout=30) == "rolled back"
    assert [e for e in LEDGER if e.startswith("release")] == [
        "release:c",
        "release:b",
        "release:a",
    ]


def test_compensate_ref_is_never_run_twice(client: Client) -> None:
    run_id = client.start(saga_manual, ["a", "b"])
    assert client.result(run_id, timeout=30) == [True, False, True]
    assert [e for e in LEDGER if e.startswith("release")] == ["release:a", "release:b"]


def test_parallel_compensation_schedules_all_then_waits(client: Client) -> None:
    run_id = client.start(saga_parallel, ["a", "b", "c"])
    assert client.result(run_id, timeout=30) == [True, True, True]
    types = _types(client, run_id)
    assert types[: types.index("compensation_completed")].count("compensation_scheduled") == 3


def test_failing_compensation_is_journaled_and_the_run_continues(client: Client) -> None:
    run_id = client.start(saga_failing_comp, ["a", "b"])
    assert client.result(run_id, timeout=30) == [False, True]
    assert "compensation_failed" in _types(client, run_id)
    assert LEDGER.count("release_broken:b") == 2
    assert "release:a" in LEDGER


def test_children_return_results_with_deterministic_ids(client: Client) -> None:
    run_id = client.start(parent, 3, id=f"p-{uuid.uuid4().hex[:6]}")
    assert client.result(run_id, timeout=30) == [0, 2, 4]
    for i in range(3):
        child = client.get_run(f"{run_id}/c{i}")
        assert child.parent_run_id == run_id
        assert child.state == "completed"


def test_child_failure_is_a_failure_to_the_parent(client: Client) -> None:
    run_id = client.start(parent_of_failure, None)
    assert client.result(run_id, timeout=30) == "failed: child refuses 7"


def test_cancel_cascades_to_grandchildren(client: Client, pg_dsn: str) -> None:
    run_id = client.start(grandparent, None, id=f"g-{uuid.uuid4().hex[:6]}")

    def tree() -> list[tuple[str, str]]:
        with psycopg.connect(pg_dsn) as conn:
            rows = conn.execute(
                "SELECT id, state FROM continuum_runs WHERE id LIKE %s ORDER BY id",
                (run_id + "%",),
            ).fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]

    _wait(lambda: len(tree()) == 3)
    client.cancel(run_id)
    assert {state for _, state in tree()} == {"cancelled"}
    with pytest.raises(continuum.RunCancelled):
        client.result(run_id, timeout=5)


def test_continue_as_new_chain_of_50_keeps_history_bounded(client: Client, pg_dsn: str) -> None:
    root = client.start(counter, {"n": 0, "limit": 50}, id=f"loop-{uuid.uuid4().hex[:6]}")
    assert client.result(root, timeout=60) == 50
    with psycopg.connect(pg_dsn) as conn:
        sizes = conn.execute(
            "SELECT r.id, count(e.seq) FROM continuum_runs r JOIN continuum_events e "
            "ON e.run_id = r.id WHERE r.correlation_id = %s GROUP BY r.id",
            (root,),
        ).fetchall()
    assert len(sizes) == 51
    assert max(int(n) for _, n in sizes) <= 4
    assert client.get_run(root).result is None


def test_signals_to_the_chain_root_land_once_each_in_the_live_tip(client: Client) -> None:
    root = client.start(counter, {"n": 0, "limit": 5, "wait": 1}, id=f"s-{uuid.uuid4().hex[:6]}")
    for _ in range(5):
        client.signal(root, "tick", 10)
    assert client.result(root, timeout=60) == 5 + 50


def _wait(predicate: object, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_cleanup_activity_in_finally_runs_once_after_the_body(client: Client) -> None:
    run_id = client.start(cleanup_in_finally, ["x"])
    assert client.result(run_id, timeout=30) == "res-x"
    assert LEDGER == ["reserve:x", "release:x"]
    assert _types(client, run_id).count("activity_scheduled") == 2


def test_cleanup_activity_in_finally_runs_when_the_body_fails(client: Client) -> None:
    run_id = client.start(cleanup_in_finally, ["fail"])
    with pytest.raises(continuum.RunFailed) as failed:
        client.result(run_id, timeout=30)
    assert "ActivityFailed" in str(failed.value)
    assert LEDGER == ["pay:fail", "pay:fail", "release:fail"]
