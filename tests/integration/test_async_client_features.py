"""``AsyncClient`` has ``Client``'s schedules, queues and fork (SPEC §4: same methods)."""

from __future__ import annotations

import asyncio
import inspect
import uuid
from collections.abc import Iterator

import pytest

import continuum
from continuum.errors import ConfigurationError, RunNotFound, ScheduleNotFound


@continuum.activity
def double(n: int) -> int:
    return n * 2


@continuum.workflow(name="async_features.twice")
def twice(n: int) -> int:
    first: int = continuum.execute(double, n)
    second: int = continuum.execute(double, first)
    return second


@pytest.fixture
def worker(pg_dsn: str) -> Iterator[continuum.Worker]:
    client = continuum.Client(pg_dsn, instance=f"af-{uuid.uuid4().hex[:8]}")
    w = continuum.Worker(client, workflows=[twice], activities=[double], poll_interval=0.2)
    with client, w:
        yield w


def test_async_client_has_every_public_method_of_client_as_a_coroutine() -> None:
    sync = {n for n, v in vars(continuum.Client).items() if callable(v) and not n.startswith("_")}
    for base in continuum.Client.__mro__[1:]:
        sync |= {n for n, v in vars(base).items() if callable(v) and not n.startswith("_")}
    sync -= {"current_version"}  # a helper of the mixins, not a database operation
    missing = sorted(n for n in sync if not hasattr(continuum.AsyncClient, n))
    assert missing == []
    not_async = sorted(
        n
        for n in sync - {"close"}
        if not inspect.iscoroutinefunction(getattr(continuum.AsyncClient, n))
    )
    assert not_async == []


def test_schedule_lifecycle_on_asyncio(pg_dsn: str, worker: continuum.Worker) -> None:
    async def main() -> None:
        async with continuum.AsyncClient(pg_dsn) as client:
            info = await client.schedule("nightly", twice, 3, cron="0 3 * * *")
            assert info.id == "nightly" and not info.paused
            assert (await client.pause_schedule("nightly")).paused
            assert not (await client.resume_schedule("nightly")).paused
            run_id = await client.trigger_schedule("nightly")
            assert run_id.startswith("nightly@")
            assert await client.result(run_id, timeout=30) == 12
            assert [s.id for s in await client.schedules()] == ["nightly"]
            await client.unschedule("nightly")
            assert await client.schedules() == []
            with pytest.raises(ScheduleNotFound):
                await client.pause_schedule("nightly")
            with pytest.raises(ConfigurationError, match=r"AsyncClient\.schedule"):
                await client.schedule("bad@id", twice, 1, cron="0 3 * * *")

    asyncio.run(main())


def test_configure_queue_and_fork_on_asyncio(pg_dsn: str, worker: continuum.Worker) -> None:
    async def main() -> None:
        async with continuum.AsyncClient(pg_dsn) as client:
            await client.configure_queue("slow", concurrency=2)
            queues = {q.name: q for q in await client.queues()}
            assert queues["slow"].concurrency == 2
            with pytest.raises(ConfigurationError, match=r"AsyncClient\.configure_queue"):
                await client.configure_queue("slow", concurrency=0)

            rid = await client.start(twice, 5, queue="slow")
            assert await client.result(rid, timeout=30) == 20
            forked = await client.fork(rid, at_seq=2, id="twice-forked")
            assert forked == "twice-forked"
            assert await client.result(forked, timeout=30) == 20
            info = await client.get_run(forked)
            assert info.forked_from_run_id == rid and info.forked_at_seq == 2
            with pytest.raises(RunNotFound):
                await client.fork("no-such-run")
            with pytest.raises(ConfigurationError, match=r"AsyncClient\.fork"):
                await client.fork(rid, at_seq=0)

    asyncio.run(main())
