"""The Postgres journal end to end: runs driven by RunDriver, reads, attributes, query."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from test_pg_journal_harness import CALLS, Runtime, child_flow, greeting_flow, runtime, waiter_flow

from continuum.engine import events as ev
from continuum.engine.activation import activate
from continuum.errors import ConfigurationError, RunNotFound
from continuum.journal.postgres.statements import sql
from continuum.journal.records import NewRun
from continuum.testing.replay import verify_run


def test_full_run_through_driver_completes_with_every_effect_journaled(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(greeting_flow, "ada", id="greet-1")
        rt.run_until_idle()
        assert rt.state(run_id) == "suspended"  # on the timer
        time.sleep(0.25)
        rt.run_until_idle()
        assert rt.state(run_id) == "suspended"  # on the signal
        rt.journal.send_signal(run_id, "decision", "approved")
        rt.run_until_idle()
        info = rt.journal.get_run(run_id)
        assert info.state.value == "completed", info.error
        assert info.result == {
            "first": "hello ada",
            "second": "ok ada",
            "decision": "approved",
            "child": "hello child ada",
        }
        history = rt.journal.history(run_id)
        assert [e.seq for e in history] == list(range(1, len(history) + 1))
        types = [e.type for e in history]
        assert types[0] == ev.RUN_STARTED and types[-1] == ev.RUN_COMPLETED
        assert ev.TIMER_FIRED in types and ev.CHILD_COMPLETED in types
        verify_run(greeting_flow, [e.to_json() for e in history])
        started = next(e for e in history if e.type == ev.CHILD_STARTED)
        kid = rt.journal.get_run(started.data["child_run_id"])
        assert kid.parent_run_id == run_id and kid.workflow == child_flow.name
        assert [c for c in CALLS if c[0] == "flaky"] == [("flaky", "ada"), ("flaky", "ada")]


def test_create_run_is_idempotent_and_start_run_inserts_already_leased(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        new = NewRun("r1", waiter_flow.name, waiter_flow.version_hash, None, attributes={"a": 1})
        info, created = rt.journal.create_run(new)
        assert created and info.state.value == "running" and info.correlation_id == "r1"
        again, created_again = rt.journal.create_run(new)
        assert not created_again and again.id == "r1"
        leased_new = NewRun("r2", waiter_flow.name, waiter_flow.version_hash, None)
        _, created2, lease = rt.journal.start_run(leased_new, "w1")
        assert created2 and lease is not None and lease.owner == "w1"
        assert rt.due_runs() == ["r1"]  # r2 is leased, not due
        assert rt.journal.claim_run("r2", "w2") is None
        rt.journal.commit_activation(
            lease, activate(waiter_flow, rt.journal.load_activation(lease))
        )
        assert rt.state("r2") == "suspended"
        assert rt.journal.start_run(leased_new, "w1")[2] is None
        with pytest.raises(RunNotFound):
            rt.journal.get_run("missing")
        with pytest.raises(RunNotFound):
            rt.journal.history("missing")
        with pytest.raises(RunNotFound):
            rt.journal.tip("missing")


def test_release_run_backs_the_run_off_on_the_database_clock(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(waiter_flow, None, id="r1")
        lease = rt.journal.claim_run(run_id, "w1")
        assert lease is not None
        rt.journal.release_run(lease, timedelta(minutes=5))
        row = rt.sql(
            "SELECT state, lease_token, next_wakeup_at - now() > interval '4 minutes' AS later "
            "FROM continuum_runs"
        )[0]
        assert row == {"state": "suspended", "lease_token": None, "later": True}
        assert rt.journal.claim_due_runs("w2", 10) == []


def test_concurrent_disjoint_attribute_merges_keep_both_keys(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(waiter_flow, None, id="r1")
        barrier = threading.Barrier(8)

        def merge(i: int) -> None:
            barrier.wait()
            for j in range(10):
                rt.journal.set_attributes(run_id, {f"k{i}_{j}": j})

        threads = [threading.Thread(target=merge, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(rt.journal.get_run(run_id).attributes) == 80
        with pytest.raises(RunNotFound):
            rt.journal.set_attributes("missing", {"a": 1})


def _seed_runs(rt: Runtime) -> None:
    for i in range(7):
        plan = "pro" if i % 2 == 0 else "free"
        rt.journal.create_run(
            NewRun(
                f"q{i}",
                waiter_flow.name,
                waiter_flow.version_hash,
                None,
                namespace="billing" if i < 6 else "other",
                attributes={"plan": plan, "seats": i},
            )
        )
        rt.sql(
            "UPDATE continuum_runs SET started_at = now() - make_interval(mins => %s) "
            "WHERE id = %s",
            (10 - i, f"q{i}"),
        )


def test_query_filters_on_columns_and_attributes(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        _seed_runs(rt)
        rt.journal.cancel("q0")

        def ids(**kw: Any) -> list[str]:
            return [r.id for r in rt.journal.query(namespace="billing", limit=100, **kw).runs]

        assert ids(where=[("eq", ("attributes", "plan"), "pro")]) == ["q4", "q2", "q0"]
        assert ids(where=[("eq", ("attributes", "plan"), "pro"), ("eq", "state", "running")]) == [
            "q4",
            "q2",
        ]
        assert ids(where=[("in", "state", ["cancelled"])]) == ["q0"]
        assert ids(where=[("in", ("attributes", "seats"), [1, 3])]) == ["q3", "q1"]
        assert ids(where=[("gt", ("attributes", "seats"), 3)]) == ["q5", "q4"]
        started = rt.journal.get_run("q3").started_at
        assert ids(where=[("lt", "started_at", started)]) == ["q2", "q1", "q0"]
        assert ids(where=[("gte", "started_at", started)], order_by=("asc", "started_at")) == [
            "q3",
            "q4",
            "q5",
        ]
        everywhere = rt.journal.query(namespace=None, limit=100).runs
        assert everywhere[0].id == "q6"
        assert rt.journal.query(namespace="nope").runs == []


def test_query_paginates_with_an_opaque_keyset_cursor(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        _seed_runs(rt)
        rt.sql("UPDATE continuum_runs SET started_at = now()")  # ties: id breaks them
        seen: list[str] = []
        cursor = None
        while True:
            page = rt.journal.query(namespace="billing", limit=4, after=cursor)
            seen.extend(r.id for r in page.runs)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert seen == [f"q{i}" for i in range(5, -1, -1)]
        asc = rt.journal.query(namespace="billing", order_by=("asc", "id"), limit=2)
        nxt = rt.journal.query(
            namespace="billing", order_by=("asc", "id"), limit=2, after=asc.next_cursor
        )
        assert [r.id for r in asc.runs + nxt.runs] == ["q0", "q1", "q2", "q3"]
        with pytest.raises(ConfigurationError):  # a cursor from another order
            rt.journal.query(namespace="billing", after=asc.next_cursor)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"where": [("eq", "input", 1)]},
        {"where": [("like", "state", "x")]},
        {"where": [("eq", ("attributes",), 1)]},
        {"where": [("eq", "state; DROP TABLE continuum_runs", 1)]},
        {"where": [("in", "state", "running")]},
        {"order_by": ("desc", "result")},
        {"order_by": ("sideways", "id")},
        {"limit": 0},
        {"after": "not-a-cursor"},
    ],
)
def test_query_rejects_unknown_fields_ops_and_cursors(pg_dsn: str, kwargs: Any) -> None:
    with runtime(pg_dsn) as rt, pytest.raises(ConfigurationError):
        rt.journal.query(**kwargs)


def test_run_claim_query_uses_the_runnable_partial_index(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        for i in range(20):
            rt.start(waiter_flow, None, id=f"r{i}")
        stmt = sql("runs", "claim_due_runs")
        with psycopg.connect(pg_dsn) as conn:
            conn.execute("SET enable_seqscan = off")
            conn.execute("ANALYZE continuum_runs")
            rows = conn.execute(
                b"EXPLAIN (FORMAT TEXT) " + stmt.encode(),
                {"owner": "w", "ttl": timedelta(seconds=30), "limit": 10},
            ).fetchall()
            conn.rollback()
        plan = "\n".join(str(r[0]) for r in rows)
        assert "continuum_runs_runnable_idx" in plan, plan
