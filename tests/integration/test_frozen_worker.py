"""A worker frozen mid-transaction (SIGSTOP, a VM stall) must not freeze the cluster.

The frozen worker is simulated exactly where it hurts: its runs are leased to it, its
heartbeat is stale, and one of its sessions sits idle in a transaction holding a run row
lock — a session made by Continuum's own pool, so it carries the worker connections'
``idle_in_transaction_session_timeout``.
"""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

import continuum
from continuum.client import Client
from continuum.db.config import DatabaseConfig
from continuum.db.pool import create_pool
from continuum.runtime.worker import Worker

FROZEN = "frozen-host/4242/default/deadbeef"
IDLE_TIMEOUT_S = 4.0


@continuum.workflow(name="frozen.step")
def step(n: int) -> int:
    return n * 2


def _lease_to_frozen_worker(dsn: str, run_ids: list[str]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO continuum_workers (id, instance, host, pid, versions, heartbeat_at)"
            " VALUES (%s, 'default', 'frozen-host', 4242, '[]', now() - interval '1 minute')",
            (FROZEN,),
        )
        conn.execute(
            "UPDATE continuum_runs SET lease_owner = %s,"
            " lease_token = nextval('continuum_lease_token_seq'),"
            " lease_expires_at = now() + interval '5 minutes', next_wakeup_at = NULL"
            " WHERE id = ANY(%s)",
            (FROZEN, run_ids),
        )


def _heartbeat_age(dsn: str, worker_id: str) -> float:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT extract(epoch FROM now() - heartbeat_at) FROM continuum_workers WHERE id = %s",
            (worker_id,),
        ).fetchone()
    assert row is not None, "the healthy worker's row is gone"
    return float(row[0])


@pytest.mark.slow
def test_frozen_worker_holding_a_row_lock_does_not_stall_takeover(pg_dsn: str) -> None:
    with Client(pg_dsn, instance=f"fz-{uuid.uuid4().hex[:8]}") as client:
        run_ids = [client.start(step, i, id=f"frozen-{i}") for i in range(6)]
        _lease_to_frozen_worker(pg_dsn, run_ids)
        held = run_ids[0]
        frozen_pool = create_pool(
            DatabaseConfig(dsn=pg_dsn, pool_min_size=1, idle_in_transaction_timeout=IDLE_TIMEOUT_S)
        )
        frozen = frozen_pool.getconn()
        frozen.execute("SELECT id FROM continuum_runs WHERE id = %s FOR UPDATE", (held,))
        locked_at = time.monotonic()  # ...and the "process" stops here, mid-transaction
        ages: list[float] = []
        worker = Worker(client, workflows=[step], dead_after=2.0, poll_interval=0.5)
        with worker:
            sampling = threading.Event()

            def sample() -> None:
                while not sampling.wait(0.5):
                    ages.append(_heartbeat_age(pg_dsn, worker.id))

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            others = [client.result(r, timeout=15) for r in run_ids[1:]]
            others_done = time.monotonic() - locked_at
            assert client.result(held, timeout=30) == 0
            held_done = time.monotonic() - locked_at
            sampling.set()
            sampler.join(5)
        assert others == [2, 4, 6, 8, 10]
        assert others_done < IDLE_TIMEOUT_S, (others_done, "others waited for the locked row")
        assert IDLE_TIMEOUT_S - 0.5 < held_done < IDLE_TIMEOUT_S + 8, held_done
        assert ages and max(ages) < 2.0, f"the healthy worker's heartbeat went stale: {ages}"
        with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):  # server ended it
            frozen.execute("SELECT 1")
        frozen_pool.putconn(frozen)
        frozen_pool.close()
        with psycopg.connect(pg_dsn, autocommit=True) as conn:
            left = conn.execute("SELECT count(*) FROM continuum_workers WHERE id = %s", (FROZEN,))
            assert left.fetchone() == (0,)  # reaped once every lease could be taken


def test_worker_connections_carry_the_idle_in_transaction_timeout(pg_dsn: str) -> None:
    pool = create_pool(DatabaseConfig(dsn=pg_dsn, pool_min_size=1))
    with pool.connection() as conn:
        row = conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()
    pool.close()
    assert row == ("10s",)
