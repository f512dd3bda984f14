"""Cancel on Postgres: tasks and timers closed, cascades, races, continue_as_new chains."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from test_pg_journal_harness import (
    activity_flow,
    looping_flow,
    runtime,
    spawner_flow,
    tree_flow,
    waiter_flow,
)

from continuum import telemetry
from continuum.engine import events as ev
from continuum.engine.activation import activate
from continuum.errors import RunNotFound, RunTerminal
from continuum.journal.fencing import Fenced
from continuum.journal.records import NewRun


def test_cancel_during_an_activity_discards_the_task_and_fences_the_late_finish(
    pg_dsn: str,
) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "k", id="c1")
        rt.activate_due()
        task = rt.journal.claim_task("w1")
        assert task is not None
        info = rt.journal.cancel(run_id)
        assert info.state.value == "cancelled" and info.finished_at is not None
        assert rt.sql("SELECT state FROM continuum_activity_tasks") == [{"state": "discarded"}]
        assert rt.journal.finish_task(task, ok=True, result="late").status == "fenced"
        assert rt.journal.heartbeat_task(task) is False
        assert rt.journal.history(run_id)[-1].type == ev.RUN_CANCELLED
        assert rt.journal.cancel(run_id).state.value == "cancelled"  # idempotent
        assert len([e for e in rt.journal.history(run_id) if e.type == ev.RUN_CANCELLED]) == 1
        row = rt.sql("SELECT lease_token, next_wakeup_at, cancel_requested_at FROM continuum_runs")
        assert row[0]["lease_token"] is None and row[0]["next_wakeup_at"] is None
        assert row[0]["cancel_requested_at"] is not None


def test_cancel_of_unknown_and_finished_runs_raises(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        with pytest.raises(RunNotFound):
            rt.journal.cancel("missing")
        run_id = rt.start(activity_flow, "k", id="c1")
        rt.run_until_idle()
        with pytest.raises(RunTerminal):
            rt.journal.cancel(run_id)


def test_cancel_cascade_reaches_grandchildren(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        root = rt.start(tree_flow, 2, id="root")
        rt.run_until_idle()
        rows = rt.sql("SELECT id, depth, state FROM continuum_runs ORDER BY depth")
        assert [r["depth"] for r in rows] == [0, 1, 2]
        assert {r["state"] for r in rows} == {"suspended"}
        rt.journal.cancel(root)
        for row in rt.sql("SELECT id FROM continuum_runs"):
            assert rt.state(row["id"]) == "cancelled"
            assert rt.journal.history(row["id"])[-1].type == ev.RUN_CANCELLED


def test_cancelling_a_child_wakes_its_parent_which_sees_the_cancellation(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        root = rt.start(tree_flow, 2, id="root")
        rt.run_until_idle()
        child = rt.sql("SELECT id FROM continuum_runs WHERE depth = 1")[0]["id"]
        rt.journal.cancel(child)
        assert rt.due_runs() == [root]
        rt.run_until_idle()
        info = rt.journal.get_run(root)
        assert info.state.value == "failed"
        assert info.error is not None and "ChildFailed" in info.error["type"]
        assert [r["state"] for r in rt.sql("SELECT state FROM continuum_runs ORDER BY depth")] == [
            "failed",
            "cancelled",
            "cancelled",
        ]


def test_cancel_cascade_is_bounded_and_reports_truncation(pg_dsn: str) -> None:
    seen: list[dict[str, Any]] = []
    handler = telemetry.attach("run.cancel_cascade_truncated", lambda _e, meta: seen.append(meta))
    try:
        with runtime(pg_dsn, max_child_depth=1) as rt:
            rt.start(waiter_flow, None, id="n0")
            for depth in range(1, 6):
                rt.sql(
                    "INSERT INTO continuum_runs (id, workflow, version_hash, state, input, "
                    "parent_run_id, correlation_id, depth) "
                    "VALUES (%s, 'w', 'h', 'suspended', 'null', %s, %s, %s)",
                    (f"n{depth}", f"n{depth - 1}", f"n{depth}", depth),
                )
            rt.journal.cancel("n0")
            states = rt.sql("SELECT id, state FROM continuum_runs ORDER BY depth")
            assert [r["state"] for r in states] == ["cancelled"] * 4 + ["suspended"] * 2
    finally:
        telemetry.detach(handler)
    assert seen and seen[0]["run_id"] == "n0" and seen[0]["instance"] == "default"


def test_concurrent_start_child_and_cancel_never_leave_a_running_orphan(pg_dsn: str) -> None:
    errors: list[BaseException] = []
    with runtime(pg_dsn) as rt:
        for i in range(200):
            run_id = rt.start(spawner_flow, None, id=f"p{i}")
            rt.activate_due()
            rt.journal.send_signal(run_id, "spawn", None)
            lease = rt.journal.claim_run(run_id, "w1")
            assert lease is not None
            result = activate(spawner_flow, rt.journal.load_activation(lease))
            assert result.new_children
            errors += race_commit_against_cancel(rt.journal, lease, result, run_id)
        assert errors == []
        orphans = rt.sql(
            "SELECT c.id FROM continuum_runs c JOIN continuum_runs p ON p.id = c.parent_run_id "
            "WHERE c.state IN ('running', 'suspended') AND p.state NOT IN ('running', 'suspended')"
        )
        assert orphans == []
        live = rt.sql("SELECT count(*) AS n FROM continuum_runs WHERE state <> 'cancelled'")
        assert live[0]["n"] == 0


def test_child_finishing_while_its_parent_is_cancelled_does_not_deadlock(pg_dsn: str) -> None:
    errors: list[BaseException] = []
    with runtime(pg_dsn) as rt:
        for i in range(50):
            run_id = rt.start(spawner_flow, None, id=f"p{i}")
            rt.journal.send_signal(run_id, "spawn", None)
            rt.run_until_idle()
            kid = f"{run_id}/kid"
            rt.journal.send_signal(kid, "never", "done")
            lease = rt.journal.claim_run(kid, "w1")
            assert lease is not None
            result = activate(waiter_flow, rt.journal.load_activation(lease))
            assert result.outcome.kind == "completed"
            errors += race_commit_against_cancel(rt.journal, lease, result, run_id)
            assert rt.state(run_id) == "cancelled"
            assert rt.state(kid) in ("completed", "cancelled")
        assert errors == []


def test_continue_as_new_moves_signals_and_chain_is_followed(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        first = rt.start(looping_flow, 0, id="loop")
        rt.journal.send_signal(first, "next", "a")
        rt.journal.send_signal(first, "next", "b")
        rt.run_until_idle()
        chain = rt.sql(
            "SELECT id, state, continued_from_run_id, continued_to_run_id, correlation_id "
            "FROM continuum_runs ORDER BY started_at, id"
        )
        assert len(chain) == 3
        tip = rt.journal.tip(first)
        assert tip == chain[-1]["id"] and tip.startswith("loop~")
        assert chain[1]["continued_from_run_id"] == first
        assert chain[0]["continued_to_run_id"] == chain[1]["id"]
        assert {r["correlation_id"] for r in chain} == {"loop"}
        assert [r["state"] for r in chain] == ["completed", "completed", "suspended"]
        # "b" was still in the first run's mailbox when it continued: it moved along.
        consumed = rt.sql("SELECT run_id, payload FROM continuum_signals ORDER BY id")
        assert consumed == [
            {"run_id": first, "payload": "a"},
            {"run_id": chain[1]["id"], "payload": "b"},
        ]
        assert rt.journal.send_signal(first, "next", "stop") == tip
        rt.run_until_idle()
        assert rt.journal.get_run(tip).result == {"round": 2}
        with pytest.raises(RunTerminal):
            rt.journal.cancel(first)


def test_cancel_through_an_old_chain_id_cancels_the_tip(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        first = rt.start(looping_flow, 0, id="loop")
        rt.journal.send_signal(first, "next", "a")
        rt.run_until_idle()
        tip = rt.journal.tip(first)
        assert tip != first
        assert rt.journal.cancel(first).id == tip
        assert rt.state(tip) == "cancelled"
        assert rt.state(first) == "completed"


def test_successor_inherits_pending_cancel_request_and_attributes(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        rt.journal.create_run(
            NewRun("loop", looping_flow.name, looping_flow.version_hash, 0, attributes={"t": 1})
        )
        rt.run_until_idle()
        # A cancel recorded for an unreachable owner (seed v0.6.1) survives continue_as_new.
        rt.journal.send_signal("loop", "next", "a")
        lease = rt.journal.claim_run("loop", "w1")
        assert lease is not None
        result = activate(looping_flow, rt.journal.load_activation(lease))
        rt.sql("UPDATE continuum_runs SET cancel_requested_at = now() WHERE id = 'loop'")
        rt.journal.commit_activation(lease, result)
        tip = rt.journal.tip("loop")
        assert rt.journal.get_run(tip).attributes == {"t": 1}
        rt.run_until_idle()
        assert rt.state(tip) == "cancelled"


def race_commit_against_cancel(
    journal: Any, lease: Any, result: Any, cancel_run_id: str
) -> list[BaseException]:
    """Commit ``result`` under ``lease`` and cancel ``cancel_run_id`` at the same instant.

    A fenced commit is an acceptable outcome (the cancel won); anything else raised by
    either side is returned.
    """
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def commit() -> None:
        barrier.wait()
        try:
            journal.commit_activation(lease, result)
        except Fenced:
            pass
        except BaseException as exc:
            errors.append(exc)

    def cancel() -> None:
        barrier.wait()
        try:
            journal.cancel(cancel_run_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=commit), threading.Thread(target=cancel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors
