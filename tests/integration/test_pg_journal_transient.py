"""Transient database errors reach the caller unchanged; they never fail a run."""

from __future__ import annotations

import psycopg
from test_pg_journal_harness import Runtime, runtime, waiter_flow

from continuum.engine.activation import activate


def _kill_pool_connections(rt: Runtime) -> None:
    rt.sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )


def test_connection_killed_before_commit_raises_operational_error_and_retry_succeeds(
    pg_dsn: str,
) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(waiter_flow, None, id="r1")
        lease = rt.journal.claim_run(run_id, "w1")
        assert lease is not None
        result = activate(waiter_flow, rt.journal.load_activation(lease))
        _kill_pool_connections(rt)
        failures = 0
        for _ in range(10):
            try:
                rt.journal.commit_activation(lease, result)
                break
            except psycopg.OperationalError:
                failures += 1
                # Nothing was written and the run was not failed: the caller may resume.
                assert rt.sql("SELECT state FROM continuum_runs")[0]["state"] == "running"
                assert rt.sql("SELECT count(*) AS n FROM continuum_events")[0]["n"] == 0
        assert failures >= 1
        assert rt.sql("SELECT state FROM continuum_runs")[0]["state"] == "suspended"


def test_connection_killed_mid_task_finish_leaves_the_task_leased(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        rt.start(waiter_flow, None, id="r1")
        rt.sql(
            "INSERT INTO continuum_activity_tasks (run_id, command_seq, activity, args, state, "
            "max_attempts) VALUES ('r1', 99, 'x', '{}', 'pending', 1)"
        )
        task = rt.journal.claim_task("w1")
        assert task is not None
        _kill_pool_connections(rt)
        statuses: list[str] = []
        for _ in range(10):
            try:
                statuses.append(rt.journal.finish_task(task, ok=True, result=1).status)
                break
            except psycopg.OperationalError:
                row = rt.sql("SELECT state FROM continuum_activity_tasks")[0]
                assert row["state"] == "leased"
        assert statuses == ["completed"]
