"""Sticky runs on real PostgreSQL: a sticky worker and a cold one journal the same events.

Random programs run once under a worker that keeps runs parked in memory
(``sticky_runs``) and once under a worker with sticky execution off (every activation
loads the whole history and replays it: the reference). Their journals must match
event for event (after dropping what differs between any two runs: ids, timestamps).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import continuum
from continuum.client import Client
from continuum.errors import ConfigurationError
from continuum.runtime.worker import Worker

KINDS = ["act", "local", "side", "signal", "gather", "patch", "saga", "fail", "nap"]

op = st.tuples(st.sampled_from(KINDS), st.integers(min_value=1, max_value=3))
programs = st.lists(st.lists(op, min_size=1, max_size=10), min_size=1, max_size=4)


@continuum.activity(name="tests.sticky_pg.double")
def double(n: int) -> int:
    return 2 * n


@continuum.activity(name="tests.sticky_pg.local_double", local=True)
def local_double(n: int) -> int:
    return 2 * n


@continuum.activity(name="tests.sticky_pg.undo")
def undo(n: int) -> int:
    return -n


@continuum.activity(name="tests.sticky_pg.boom", max_attempts=1)
def boom(n: int) -> int:
    raise ValueError(f"boom {n}")


@continuum.workflow(name="tests.sticky_pg.program")
def program(ops: list[list[Any]]) -> list[Any]:
    out: list[Any] = []
    for kind, n in ops:
        if kind == "act":
            out.append(continuum.execute(double, n))
        elif kind == "local":
            out.append(continuum.execute(local_double, n))
        elif kind == "side":
            out.append(continuum.side_effect(lambda n=n: n * 10))
        elif kind == "signal":
            out.append(continuum.wait_signal(f"s{n}"))
        elif kind == "gather":
            out.append(continuum.gather(*[continuum.start_activity(double, i) for i in range(n)]))
        elif kind == "patch":
            out.append(continuum.patched(f"p{n}"))
        elif kind == "saga":
            ref = continuum.execute(double, n, compensate=continuum.compensation(undo, n))
            out.append(continuum.unwrap(ref))
            out.append(continuum.compensate_all())
        elif kind == "fail":
            try:
                continuum.execute(boom, n)
            except continuum.ActivityFailed as exc:
                out.append(exc.error_type)
        elif kind == "nap":
            continuum.sleep(0)
            out.append("napped")
    return out


LOCAL_CALLS: list[int] = []


@continuum.activity(name="tests.sticky_pg.counted_local", local=True)
def counted_local(n: int) -> int:
    LOCAL_CALLS.append(n)
    return n + 100


@continuum.workflow(name="tests.sticky_pg.mixed")
def mixed(n: int) -> list[int]:
    out = []
    for k in range(n):
        out.append(continuum.execute(double, k))
        out.append(continuum.execute(counted_local, k))
    return out


_VOLATILE = {"run_id", "correlation_id", "signal_id", "fire_at", "timeout_at", "traceback"}


def _normal(history: list[dict[str, Any]]) -> list[Any]:
    """What must not differ between two runs of one program."""
    return [
        (
            ev["seq"],
            ev["type"],
            ev.get("ref_seq"),
            ev.get("command"),
            _scrub(ev.get("data")),
        )
        for ev in history
    ]


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn) as c:
        yield c


def _run_all(client: Client, batch: list[list[tuple[str, int]]], tag: str, sticky: int) -> Any:
    ids = []
    for k, ops in enumerate(batch):
        run_id = client.start(program, [list(o) for o in ops], id=f"{tag}-{k}")
        for kind, n in ops:
            if kind == "signal":
                client.signal(run_id, f"s{n}", f"payload-{n}")
        ids.append(run_id)
    worker = Worker(client, workflows=[program], max_activities=1, sticky_runs=sticky)
    with worker:
        results = [client.result(run_id, timeout=60) for run_id in ids]
        stats = worker.sticky.stats()
    return [_normal(client.history(r)) for r in ids], results, stats


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(batch=programs, tag=st.uuids())
def test_sticky_and_cold_workers_journal_the_same_events(
    client: Client, batch: list[list[tuple[str, int]]], tag: Any
) -> None:
    cold = _run_all(client, batch, f"cold-{tag.hex[:8]}", sticky=0)
    warm = _run_all(client, batch, f"warm-{tag.hex[:8]}", sticky=2)
    assert warm[0] == cold[0]
    assert warm[1] == cold[1]
    assert cold[2]["hits"] == 0
    if any(kind in ("act", "gather", "saga") for ops in batch for kind, _ in ops):
        assert warm[2]["hits"] > 0  # the parked runs really were resumed


def test_a_long_sequential_run_is_resumed_from_memory(client: Client) -> None:
    ops = [("act", k % 3 + 1) for k in range(30)]
    history, results, stats = _run_all(client, [ops], "long", sticky=8)
    assert results == [[2 * (k % 3 + 1) for k in range(30)]]
    assert stats["hits"] >= 29 and stats["misses"] <= 2
    assert len(history[0]) == 2 + 2 * 30


def test_a_lone_sequential_run_takes_one_transaction_per_step(client: Client) -> None:
    """With no other attempt in flight, an activity's finish carries its parked run's next
    activation (runtime/fused.py); under load finishes group-commit instead."""
    run_id = client.start(program, [["act", k % 3 + 1] for k in range(20)], id="fused-lone")
    worker = Worker(client, workflows=[program], max_activities=4, sticky_runs=8)
    with worker:
        assert client.result(run_id, timeout=60) == [2 * (k % 3 + 1) for k in range(20)]
        fused = worker.activities.fused
        assert fused is not None and fused.fused >= 18


def test_worker_rejects_a_negative_sticky_cache_size(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="sticky_runs"):
        Worker(client, workflows=[program], sticky_runs=-1)


def test_a_local_activity_after_a_builtin_one_runs_once_outside_the_step_transaction(
    client: Client,
) -> None:
    # The builtin activity's finish resumes the parked run inside its transaction; the
    # local activity that follows must not run there: the step is abandoned and the run
    # activated again the ordinary way, where the local activity runs exactly once.
    LOCAL_CALLS.clear()
    run_id = client.start(mixed, 5, id="mixed-1")
    with Worker(client, workflows=[mixed], max_activities=1) as worker:
        assert client.result(run_id, timeout=60) == [v for k in range(5) for v in (2 * k, k + 100)]
        stats = worker.sticky.stats()
    assert sorted(LOCAL_CALLS) == [0, 1, 2, 3, 4]
    assert stats["hits"] > 0


@continuum.workflow(name="tests.sticky_pg.listener")
def listener(n: int) -> list[Any]:
    return [continuum.wait_signal("ping") for _ in range(n)]


def test_a_signalled_run_is_resumed_from_memory(client: Client) -> None:
    run_id = client.start(listener, 3, id="listener-1")
    with Worker(client, workflows=[listener]) as worker:
        for k in range(3):
            deadline = time.monotonic() + 30
            while len(client.history(run_id)) < 2 + 2 * k:  # parked at wait k
                assert time.monotonic() < deadline
                time.sleep(0.02)
            client.signal(run_id, "ping", k)
        assert client.result(run_id, timeout=30) == [0, 1, 2]
        stats = worker.sticky.stats()
    assert stats["hits"] >= 3 and stats["misses"] == 1
