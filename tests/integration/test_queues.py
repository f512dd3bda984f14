"""Queues on real Postgres (SPEC §15): queued state, priority, rate limits, inheritance."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime

import psycopg
import pytest

import continuum
from continuum import seconds
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow
def job(n: int) -> int:
    return n


@continuum.workflow
def parent_job(n: int) -> int:
    return continuum.child(job, n, id="kid") + 1


@continuum.workflow
def looping(n: int) -> int:
    if n > 0:
        continuum.continue_as_new(n - 1)
    return 0


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _worker(client: Client) -> Worker:
    return Worker(client, workflows=[job, parent_job, looping], poll_interval=0.5)


def _admitted(dsn: str, queue: str) -> list[tuple[str, datetime]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT id, admitted_at FROM continuum_runs WHERE queue = %s"
            " AND admitted_at IS NOT NULL ORDER BY admitted_at",
            (queue,),
        ).fetchall()
    return [(r[0], r[1]) for r in rows]


def test_a_run_waits_queued_until_the_queue_has_room(client: Client) -> None:
    client.configure_queue("one", concurrency=1)
    first = client.start(job, 1, queue="one")
    second = client.start(job, 2, queue="one", priority=3)
    assert client.get_run(first).state == continuum.RunState.RUNNING
    info = client.get_run(second)
    assert info.state == continuum.RunState.QUEUED
    assert (info.queue, info.priority) == ("one", 3)
    [q] = client.queues()
    assert (q.name, q.concurrency, q.running, q.queued) == ("one", 1, 1, 1)
    with _worker(client):
        assert client.result(second, timeout=20) == 2
    assert client.result(first, timeout=1) == 1


def test_lower_priority_value_starts_first(client: Client) -> None:
    client.configure_queue("prio", concurrency=1)
    blocker = client.start(job, 0, queue="prio")
    ids = {p: client.start(job, p, queue="prio", priority=p) for p in (5, 1, 9, 0, 3)}
    with _worker(client):
        for run_id in ids.values():
            client.result(run_id, timeout=20)
    order = [run_id for run_id, _ in _admitted(client.dsn, "prio")]
    assert order == [blocker] + [ids[p] for p in (0, 1, 3, 5, 9)]


def test_rate_limit_is_honoured(client: Client) -> None:
    client.configure_queue("rl", rate_limit=(3, seconds(1)))
    ids = [client.start(job, i, queue="rl") for i in range(9)]
    with _worker(client):
        for run_id in ids:
            client.result(run_id, timeout=30)
    times = [at for _, at in _admitted(client.dsn, "rl")]
    assert len(times) == 9
    for k in range(len(times) - 3):
        assert (times[k + 3] - times[k]).total_seconds() >= 1.0  # never 4 inside 1 s


def test_children_and_successors_stay_on_their_parents_queue(client: Client) -> None:
    client.configure_queue("fam", concurrency=2)
    parent = client.start(parent_job, 4, queue="fam", priority=2)
    chain = client.start(looping, 2, queue="fam")
    with _worker(client):
        assert client.result(parent, timeout=20) == 5
        assert client.result(chain, timeout=20) == 0
    kid = client.get_run(f"{parent}/kid")
    assert (kid.queue, kid.priority) == ("fam", 2)
    tip = client.get_run(chain)
    while tip.continued_to_run_id is not None:
        tip = client.get_run(tip.continued_to_run_id)
        assert tip.queue == "fam"
    assert tip.id != chain


def test_a_queued_run_can_be_cancelled(client: Client) -> None:
    client.configure_queue("c", concurrency=1)
    client.start(job, 1, queue="c")
    waiting = client.start(job, 2, queue="c")
    assert client.cancel(waiting).state == continuum.RunState.CANCELLED
    with pytest.raises(continuum.RunCancelled):
        client.result(waiting, timeout=5)


def test_runs_without_a_queue_are_not_limited(client: Client) -> None:
    client.configure_queue("tiny", concurrency=1)
    ids = [client.start(job, i) for i in range(3)]
    assert all(client.get_run(i).state == continuum.RunState.RUNNING for i in ids)
    assert all(client.get_run(i).queue is None for i in ids)


def test_raising_the_limit_admits_waiting_runs_at_once(client: Client) -> None:
    client.configure_queue("grow", concurrency=1)
    ids = [client.start(job, i, queue="grow") for i in range(3)]
    assert [client.get_run(i).state for i in ids].count(continuum.RunState.QUEUED) == 2
    client.configure_queue("grow", concurrency=5)
    assert all(client.get_run(i).state == continuum.RunState.RUNNING for i in ids)


def test_bad_queue_arguments_are_refused_and_nothing_is_written(client: Client) -> None:
    for kwargs in (
        {"concurrency": 0},
        {"concurrency": True},
        {"rate_limit": (0, seconds(1))},
        {"rate_limit": (5, 60)},
        {"rate_limit": (5,)},
    ):
        with pytest.raises(continuum.ConfigurationError, match="configure_queue"):
            client.configure_queue("bad", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(continuum.ConfigurationError, match="queue"):
        client.start(job, 1, queue="")
    with pytest.raises(continuum.ConfigurationError, match="priority"):
        client.start(job, 1, queue="q", priority="high")  # type: ignore[arg-type]
    with pytest.raises(continuum.PayloadError, match="queue name"):
        client.start(job, 1, queue="q\x00")
    assert client.queues() == []
    assert client.query().runs == []


def test_a_queued_run_pins_its_version(client: Client) -> None:
    from continuum.ops.gc import pinned_pairs

    client.configure_queue("pin", concurrency=1)
    client.start(job, 1, queue="pin")
    waiting = client.start(parent_job, 2, queue="pin")
    assert client.get_run(waiting).state == continuum.RunState.QUEUED
    with psycopg.connect(client.dsn) as conn:
        assert (parent_job.name, parent_job.version_hash) in pinned_pairs(conn)
