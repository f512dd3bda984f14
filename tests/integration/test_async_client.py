"""``continuum.AsyncClient`` against real Postgres: the Client's API, awaited."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest

import continuum
from continuum.errors import (
    ConfigurationError,
    PayloadError,
    ResultTimeout,
    RunCancelled,
    RunNotFound,
    RunTerminal,
    WorkflowContextError,
)
from continuum.testing import WorkflowEnvironment


@continuum.workflow(name="async_client.greet")
def greet(name: str) -> str:
    who = continuum.wait_signal("who")
    return f"hello {name} from {who}"


@continuum.workflow(name="async_client.countdown")
def countdown(n: int) -> int:
    if n > 0:
        continuum.continue_as_new(n - 1)
    return 42


@continuum.workflow(name="async_client.calls_client")
def calls_client(_: None) -> str:
    asyncio.run(continuum.AsyncClient().start(greet, "x"))
    return "unreachable"


@pytest.fixture
def worker(pg_dsn: str) -> Iterator[continuum.Worker]:
    client = continuum.Client(pg_dsn, instance=f"w-{uuid.uuid4().hex[:8]}")
    w = continuum.Worker(client, workflows=[greet, countdown], max_runs=8, poll_interval=0.2)
    with client, w:
        yield w


def _count(dsn: str, table: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_start_signal_result_and_reads_round_trip(pg_dsn: str, worker: continuum.Worker) -> None:
    async def main() -> None:
        async with continuum.AsyncClient(pg_dsn) as client:
            rid = await client.start(greet, "ada", id="greet-1", attributes={"plan": "pro"})
            assert await client.start(greet, "ada", id="greet-1") == rid  # idempotent on id
            await client.signal(rid, "who", "bob")
            assert await client.result(rid, timeout=30) == "hello ada from bob"
            info = await client.get_run(rid)
            assert info.state == continuum.RunState.COMPLETED
            assert info.attributes == {"plan": "pro"}
            await client.set_attributes(rid, {"tier": "gold"})
            assert (await client.get_run(rid)).attributes == {"plan": "pro", "tier": "gold"}
            page = await client.query(where=[("eq", ("attributes", "tier"), "gold")])
            assert [r.id for r in page.runs] == [rid]
            types = [e["type"] for e in await client.history(rid)]
            assert types[0] == "run_started" and types[-1] == "run_completed"

    asyncio.run(main())


def test_result_follows_continue_as_new_chain(pg_dsn: str, worker: continuum.Worker) -> None:
    async def main() -> int:
        async with continuum.AsyncClient(pg_dsn) as client:
            rid = await client.start(countdown, 3)
            value: int = await client.result(rid, timeout=30)
            return value

    assert asyncio.run(main()) == 42


def test_errors_are_the_clients_and_write_nothing(pg_dsn: str) -> None:
    async def main() -> None:
        async with continuum.AsyncClient(pg_dsn) as client:
            with pytest.raises(RunNotFound):
                await client.signal("no-such-run", "who", "me")
            rid = await client.start(greet, "ada")
            signals = _count(pg_dsn, "continuum_signals")
            with pytest.raises(PayloadError):
                await client.signal(rid, "who", object())
            with pytest.raises(PayloadError):
                await client.start(greet, object())
            with pytest.raises(PayloadError):
                await client.start(greet, "x", id="")
            with pytest.raises(PayloadError):
                await client.signal("bad\x00id", "who", "me")
            assert _count(pg_dsn, "continuum_signals") == signals
            with pytest.raises(ResultTimeout):
                await client.result(rid, timeout=0.3)
            cancelled = await client.cancel(rid)
            assert cancelled.state == continuum.RunState.CANCELLED
            with pytest.raises(RunCancelled):
                await client.result(rid, timeout=5)
            with pytest.raises(RunTerminal):
                await client.signal(rid, "who", "late")

    asyncio.run(main())
    assert _count(pg_dsn, "continuum_runs") == 1


def test_bad_names_are_refused_before_any_io() -> None:
    with pytest.raises(PayloadError, match="AsyncClient"):
        continuum.AsyncClient("postgresql://nobody@localhost/x", namespace="")

    async def main() -> None:
        client = continuum.AsyncClient("postgresql://nobody@localhost/x")
        with pytest.raises(PayloadError, match=r"AsyncClient\.get_run"):
            await client.get_run("")
        with pytest.raises(PayloadError, match="namespace"):
            await client.start(greet, "x", namespace="")

    asyncio.run(main())


def test_a_closed_client_refuses_calls_with_a_clear_error(pg_dsn: str) -> None:
    async def main() -> None:
        client = continuum.AsyncClient(pg_dsn)
        await client.close()
        with pytest.raises(ConfigurationError, match="closed"):
            await client.get_run("x")

    asyncio.run(main())


def test_async_client_calls_inside_a_workflow_are_refused() -> None:
    env = WorkflowEnvironment()
    run_id = env.start(calls_client, None)
    with pytest.raises(continuum.RunFailed) as err:
        env.result(run_id)
    assert WorkflowContextError.__name__ in str(err.value.error)


def test_a_thousand_concurrent_waiters_share_one_listener(pg_dsn: str) -> None:
    n = 1000

    async def main() -> list[str]:
        async with continuum.AsyncClient(pg_dsn) as client:
            ids = [await client.start(greet, f"n{i}", id=f"many-{i}") for i in range(n)]
            for rid in ids:  # buffered: each run finishes in its first activation
                await client.signal(rid, "who", "all")
            threads_before = threading.active_count()
            waiters = [asyncio.create_task(client.result(rid, timeout=120)) for rid in ids]
            listener = client._listener
            assert listener is not None
            while listener.waiting < n:  # every waiter registered; no worker runs yet
                await asyncio.sleep(0.05)
            # Waiting costs no thread (nor connection) per waiter.
            assert threading.active_count() == threads_before
            sync = continuum.Client(pg_dsn, instance=f"w-{uuid.uuid4().hex[:8]}")
            worker = continuum.Worker(sync, workflows=[greet], max_runs=8, poll_interval=0.2)
            worker.start()
            try:
                return list(await asyncio.gather(*waiters))
            finally:
                worker.stop()
                sync.close()

    results = asyncio.run(main())
    assert results == [f"hello n{i} from all" for i in range(n)]
