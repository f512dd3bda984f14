"""Signals on Postgres: the durable mailbox, typed errors, and the timer-vs-signal race."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from psycopg_pool import ConnectionPool
from test_pg_journal_harness import (
    looping_flow,
    runtime,
    signal_flow,
    signal_timeout_flow,
    waiter_flow,
)

from continuum.engine import events as ev
from continuum.engine.activation import activate
from continuum.errors import ConfigurationError, PayloadError, RunNotFound, RunTerminal
from continuum.journal.postgres import PostgresJournal


def _counts(rt: Any) -> dict[str, int]:
    return rt.sql(
        "SELECT (SELECT count(*) FROM continuum_signals) AS signals, "
        "(SELECT count(*) FROM continuum_events) AS events"
    )[0]


def test_signal_sent_before_wait_is_consumed_once(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(signal_flow, 2, id="s1")
        assert rt.journal.send_signal(run_id, "go", "first") == run_id
        assert rt.journal.send_signal(run_id, "go", {"n": 2}) == run_id
        rt.run_until_idle()
        info = rt.journal.get_run(run_id)
        assert info.state.value == "completed"
        assert info.result == ["first", {"n": 2}]
        received = [e for e in rt.journal.history(run_id) if e.type == ev.SIGNAL_RECEIVED]
        assert [e.data["payload"] for e in received] == ["first", {"n": 2}]
        rows = rt.sql("SELECT consumed_seq FROM continuum_signals ORDER BY id")
        assert [r["consumed_seq"] for r in rows] == [e.seq for e in received]


def test_signal_to_unknown_run_raises_not_found_and_writes_nothing(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        with pytest.raises(RunNotFound) as info:
            rt.journal.send_signal("nope", "go", 1)
        assert info.value.run_id == "nope"
        assert _counts(rt) == {"signals": 0, "events": 0}


def test_signal_to_terminal_run_raises_run_terminal_and_writes_nothing(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(signal_flow, 1, id="s1")
        rt.journal.send_signal(run_id, "go", "x")
        rt.run_until_idle()
        before = _counts(rt)
        with pytest.raises(RunTerminal) as info:
            rt.journal.send_signal(run_id, "go", "late")
        assert info.value.state == "completed"
        assert _counts(rt) == before
        cancelled = rt.start(waiter_flow, None, id="s2")
        rt.journal.cancel(cancelled)
        with pytest.raises(RunTerminal):
            rt.journal.send_signal(cancelled, "go", "late")


def test_malformed_payload_is_rejected_before_touching_the_database(pg_dsn: str) -> None:
    pool: ConnectionPool[Any] = ConnectionPool(pg_dsn, min_size=0, max_size=1, open=False)
    journal = PostgresJournal(pool)  # a closed pool: any query would raise PoolClosed
    with pytest.raises(PayloadError):
        journal.send_signal("any", "go", {"when": object()})
    with pytest.raises(PayloadError):
        journal.send_signal("any", "go", float("nan"))
    with pytest.raises(ConfigurationError):
        journal.send_signal("any", "", 1)
    with pytest.raises(PayloadError):
        journal.set_attributes("any", {"bad": {1, 2}})


def test_signal_arriving_during_an_activation_wakes_the_run_after_commit(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(signal_flow, 1, id="s1")
        lease = rt.journal.claim_run(run_id, "w1")
        assert lease is not None
        result = activate(signal_flow, rt.journal.load_activation(lease))  # sees no signal
        rt.journal.send_signal(run_id, "go", "mid-flight")
        rt.journal.commit_activation(lease, result)
        assert rt.due_runs() == [run_id]
        rt.run_until_idle()
        assert rt.journal.get_run(run_id).result == ["mid-flight"]


TIMER_S = 1.5
"""The signal-wait timeout of the timer races below. It must outlast the first
``run_until_idle`` (which arms it) even on a loaded machine: 0.1-0.2 s did not at load 12."""


def _race(rt: Any, run_id: str) -> list[str]:
    return [
        e.type
        for e in rt.journal.history(run_id)
        if e.type in (ev.SIGNAL_RECEIVED, ev.SIGNAL_TIMED_OUT)
    ]


def test_timer_and_signal_both_due_resolve_exactly_once_in_favour_of_the_signal(
    pg_dsn: str,
) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(signal_timeout_flow, TIMER_S, id="t1")
        rt.run_until_idle()
        time.sleep(TIMER_S + 0.1)
        rt.journal.send_signal(run_id, "go", "just in time")
        rt.run_until_idle()
        assert rt.journal.get_run(run_id).result == "just in time"
        assert _race(rt, run_id) == [ev.SIGNAL_RECEIVED]
        timers = rt.sql("SELECT fired FROM continuum_timers")
        assert timers == [{"fired": True}]


def test_timeout_fired_first_leaves_a_late_signal_unconsumed(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(signal_timeout_flow, TIMER_S, id="t1")
        rt.run_until_idle()
        assert rt.sql("SELECT next_wakeup_at IS NOT NULL AS armed FROM continuum_runs")[0]["armed"]
        time.sleep(TIMER_S + 0.1)
        rt.run_until_idle()  # the timer is due on the database clock
        assert rt.journal.get_run(run_id).result == "timed out"
        with pytest.raises(RunTerminal):
            rt.journal.send_signal(run_id, "go", "too late")
        assert _race(rt, run_id) == [ev.SIGNAL_TIMED_OUT]


def test_concurrent_activations_of_a_timer_signal_race_commit_once(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(signal_timeout_flow, TIMER_S, id="t1")
        rt.run_until_idle()
        time.sleep(TIMER_S + 0.1)
        rt.journal.send_signal(run_id, "go", "sig")
        # Two workers: the first activation's lease is taken over before it commits.
        old = rt.journal.claim_run(run_id, "w1")
        assert old is not None
        old_result = activate(signal_timeout_flow, rt.journal.load_activation(old))
        rt.sql("UPDATE continuum_runs SET lease_expires_at = now() - interval '1s'")
        new = rt.journal.claim_run(run_id, "w2")
        assert new is not None
        rt.journal.commit_activation(
            new, activate(signal_timeout_flow, rt.journal.load_activation(new))
        )
        with pytest.raises(Exception, match="no longer current"):
            rt.journal.commit_activation(old, old_result)
        assert _race(rt, run_id) == [ev.SIGNAL_RECEIVED]
        assert (
            rt.sql("SELECT count(*) AS n FROM continuum_signals WHERE consumed_at IS NOT NULL")[0][
                "n"
            ]
            == 1
        )


def test_signal_racing_a_continue_as_new_is_never_stranded(pg_dsn: str) -> None:
    errors: list[BaseException] = []
    with runtime(pg_dsn) as rt:
        for i in range(100):
            first = rt.start(looping_flow, 0, id=f"loop{i}")
            rt.journal.send_signal(first, "next", "a")
            lease = rt.journal.claim_run(first, "w1")
            assert lease is not None
            result = activate(looping_flow, rt.journal.load_activation(lease))
            assert result.outcome.kind == "continued"
            barrier = threading.Barrier(2)
            landed: list[str] = []

            def commit(lease: Any = lease, result: Any = result, barrier: Any = barrier) -> None:
                barrier.wait()
                try:
                    rt.journal.commit_activation(lease, result)
                except BaseException as exc:
                    errors.append(exc)

            def signal(
                run_id: str = first, barrier: Any = barrier, landed: list[str] = landed
            ) -> None:
                barrier.wait()
                try:
                    landed.append(rt.journal.send_signal(run_id, "next", "b"))
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=commit), threading.Thread(target=signal)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            tip = rt.journal.tip(first)
            pending = rt.sql(
                "SELECT run_id FROM continuum_signals WHERE payload = '\"b\"'::jsonb "
                "AND consumed_at IS NULL AND run_id LIKE %s",
                (f"loop{i}%",),
            )
            assert pending == [{"run_id": tip}], (landed, tip)
        assert errors == []
