"""A run leased to a worker by a transaction whose acknowledgement was lost resumes on the
next lease beat, not after the lease TTL."""

from __future__ import annotations

import uuid

import psycopg

import continuum
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow(name="lost_ack.echo")
def echo(word: str) -> str:
    return word


def test_a_run_leased_to_us_under_an_unseen_token_is_handed_back(pg_dsn: str) -> None:
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as client:
        worker = Worker(client, workflows=[echo], lease_ttl=30, lease_renew=0.3, poll_interval=0.2)
        run_id = client.start(echo, "hello", id="orphan")
        with psycopg.connect(pg_dsn) as conn:
            # What a finish-and-claim whose reply never arrived leaves behind: the run
            # leased to this worker (5 s ago) under a token none of its slots holds.
            conn.execute(
                "UPDATE continuum_runs SET lease_owner = %s,"
                " lease_token = nextval('continuum_lease_token_seq'),"
                " lease_expires_at = now() + interval '25 seconds', next_wakeup_at = NULL"
                " WHERE id = %s",
                (worker.id, run_id),
            )
        with worker:
            # Far less than the 25 s the lease has left: the heartbeater handed it back.
            assert client.result(run_id, timeout=10) == "hello"
