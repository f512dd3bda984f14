"""Group commit: many activations in one transaction, each still fenced by its own lease."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from test_pg_journal_harness import (
    Runtime,
    activity_flow,
    resolve,
    runtime,
    signal_timeout_flow,
)

from continuum.engine.activation import activate
from continuum.engine.types import ActivationResult
from continuum.errors import PayloadError
from continuum.journal.fencing import Fenced
from continuum.journal.records import Lease, TaskLease


def _activated(rt: Runtime, run_id: str) -> tuple[Lease, ActivationResult]:
    lease = rt.journal.claim_run(run_id, rt.owner)
    assert lease is not None
    flow = resolve(lease.workflow, lease.version_hash)
    assert flow is not None
    return lease, activate(flow, rt.journal.load_activation(lease))


def _events(rt: Runtime, run_id: str) -> list[str]:
    rows = rt.sql("SELECT type FROM continuum_events WHERE run_id = %s ORDER BY seq", (run_id,))
    return [r["type"] for r in rows]


def test_a_batch_writes_every_run_as_its_own_commit_would(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        ids = [rt.start(activity_flow, f"k{i}", id=f"r{i}") for i in range(3)]
        items = [(*_activated(rt, run_id), 1 if run_id == "r0" else 0) for run_id in ids]
        out = rt.journal.commit_activations(items, task_owner="w1")
        assert [type(o) for o in out] == [list, list, list]
        assert [len(o) for o in out if isinstance(o, list)] == [1, 0, 0]
        (leased,) = out[0] if isinstance(out[0], list) else []
        assert leased.owner == "w1" and leased.attempt == 1 and leased.run_id == "r0"
        tasks = rt.sql("SELECT run_id, state FROM continuum_activity_tasks ORDER BY run_id")
        assert [(t["run_id"], t["state"]) for t in tasks] == [
            ("r0", "leased"),
            ("r1", "pending"),
            ("r2", "pending"),
        ]
        for run_id in ids:
            assert rt.state(run_id) == "suspended"
            assert _events(rt, run_id) == _events(rt, "r0")
        runs = rt.sql("SELECT lease_token, last_seq FROM continuum_runs ORDER BY id")
        assert all(r["lease_token"] is None and r["last_seq"] > 0 for r in runs)
        assert rt.execute(leased) == "completed"
        rt.run_until_idle()
        assert [rt.journal.get_run(i).result for i in ids] == ["k0", "k1", "k2"]


def test_completions_in_a_batch_finish_their_runs(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        ids = [rt.start(activity_flow, f"k{i}", id=f"r{i}") for i in range(2)]
        rt.activate_due()
        for task in rt.journal.claim_tasks(rt.owner, 10):
            rt.execute(task)
        items = [(*_activated(rt, run_id), 0) for run_id in ids]
        assert all(r.outcome.kind == "completed" for _, r, _ in items)
        assert rt.journal.commit_activations(items, task_owner="w1") == [[], []]
        for run_id in ids:
            info = rt.journal.get_run(run_id)
            assert info.state.value == "completed" and info.finished_at is not None
        flags = rt.sql("SELECT journaled FROM continuum_activity_tasks")
        assert [f["journaled"] for f in flags] == [True, True]


def test_a_stale_lease_is_fenced_alone_and_writes_nothing(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        ids = [rt.start(activity_flow, f"k{i}", id=f"r{i}") for i in range(2)]
        items = [(*_activated(rt, run_id), 0) for run_id in ids]
        rt.sql("UPDATE continuum_runs SET lease_token = lease_token + 1000 WHERE id = 'r0'")
        out = rt.journal.commit_activations(items, task_owner="w1")
        assert isinstance(out[0], Fenced) and out[1] == []
        assert _events(rt, "r0") == [] and _events(rt, "r1") != []
        tasks = rt.sql("SELECT run_id FROM continuum_activity_tasks")
        assert [t["run_id"] for t in tasks] == ["r1"]


def test_a_journal_that_moved_is_fenced(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "k", id="r0")
        item = (*_activated(rt, run_id), 0)
        rt.sql("UPDATE continuum_runs SET last_seq = last_seq + 1")
        (out,) = rt.journal.commit_activations([item], task_owner="w1")
        assert isinstance(out, Fenced) and "journal moved" in str(out)
        assert _events(rt, run_id) == []


def test_a_run_locked_elsewhere_is_left_to_commit_on_its_own(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        ids = [rt.start(activity_flow, f"k{i}", id=f"r{i}") for i in range(2)]
        items = [(*_activated(rt, run_id), 0) for run_id in ids]
        with psycopg.connect(pg_dsn) as other:
            other.execute("SELECT 1 FROM continuum_runs WHERE id = 'r0' FOR UPDATE")
            out = rt.journal.commit_activations(items, task_owner="w1")
            assert out == [None, []]  # no wait for the lock: r0 is the caller's to commit
        assert _events(rt, "r0") == []
        lease, result, _ = items[0]
        rt.journal.commit_activation(lease, result)  # the ordinary path, as the runtime does
        assert rt.state("r0") == "suspended" and _events(rt, "r0") == _events(rt, "r1")


def test_shapes_the_batch_does_not_write_come_back_for_a_single_commit(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        rt.start(activity_flow, "kid", id="child")
        rt.start(activity_flow, "k", id="other")
        rt.sql("UPDATE continuum_runs SET parent_run_id = 'other' WHERE id = 'child'")
        rt.activate_due()
        for task in rt.journal.claim_tasks(rt.owner, 10):
            if task.run_id == "child":
                rt.execute(task)
        rt.start(signal_timeout_flow, 30.0, id="timer")  # arms a timer: not batched
        timer = _activated(rt, "timer")
        child = _activated(rt, "child")
        assert child[1].outcome.kind == "completed"  # and it has a parent to wake
        out = rt.journal.commit_activations([(*timer, 0), (*child, 0)], task_owner="w1")
        assert out == [None, None]
        assert rt.state("child") == "running" and rt.state("timer") == "running"


def test_a_value_that_is_not_json_fails_only_its_own_item(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        ids = [rt.start(activity_flow, f"k{i}", id=f"r{i}") for i in range(2)]
        items: list[tuple[Lease, ActivationResult, int]] = [
            (*_activated(rt, run_id), 0) for run_id in ids
        ]
        bad: Any = object()
        items[0][1].new_events[-1].data = {"oops": bad}
        out = rt.journal.commit_activations(items, task_owner="w1")
        assert isinstance(out[0], PayloadError) and out[1] == []
        assert _events(rt, "r0") == []


def test_a_failed_batch_transaction_writes_nothing(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        ids = [rt.start(activity_flow, f"k{i}", id=f"r{i}") for i in range(2)]
        items = [(*_activated(rt, run_id), 0) for run_id in ids]
        # A task already at r1's command seq breaks the insert after r0's rows went in.
        seq = items[1][1].new_tasks[0].command_seq
        rt.sql(
            "INSERT INTO continuum_activity_tasks (run_id, command_seq, activity, args, state,"
            " max_attempts) VALUES ('r1', %s, 'x', '{}', 'pending', 1)",
            (seq,),
        )
        with pytest.raises(psycopg.errors.UniqueViolation):
            rt.journal.commit_activations(items, task_owner="w1")
        assert _events(rt, "r0") == [] and rt.state("r0") == "running"


# -- group finish of activity tasks ---------------------------------------------------


def _leased_tasks(rt: Runtime, n: int) -> list[TaskLease]:
    for i in range(n):
        rt.start(activity_flow, f"k{i}", id=f"r{i}")
    rt.activate_due()
    return sorted(rt.journal.claim_tasks("w1", 10), key=lambda t: t.run_id)


def test_a_group_finish_leases_or_wakes_each_run(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        t0, t1 = _leased_tasks(rt, 2)
        out = rt.journal.finish_tasks([(t0, "v0", True), (t1, "v1", False)], owner="w1")
        assert isinstance(out[0], tuple) and isinstance(out[1], tuple)
        (f0, lease0, loaded0), (f1, lease1, loaded1) = out[0], out[1]
        assert f0.status == f1.status == "completed"
        assert lease0 is not None and lease0.owner == "w1" and loaded0 is not None
        assert [t.result for t in loaded0.finished_tasks.values()] == ["v0"]
        assert lease1 is None and loaded1 is None
        assert rt.due_runs() == ["r1"]  # woken, not leased
        assert rt.journal.claim_run("r0", "w2") is None  # r0 is ours
        rt.journal.release_run(lease0, timedelta(0))
        rt.run_until_idle()
        assert [rt.journal.get_run(r).result for r in ("r0", "r1")] == ["v0", "v1"]


def test_a_stale_attempt_in_a_group_finish_is_fenced_alone(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        t0, t1 = _leased_tasks(rt, 2)
        stale = TaskLease(**{**asdict(t0), "token": t0.token + 1000})
        out = rt.journal.finish_tasks([(stale, "x", False), (t1, "v1", False)], owner="w1")
        assert isinstance(out[0], tuple) and out[0][0].status == "fenced"
        assert isinstance(out[1], tuple) and out[1][0].status == "completed"
        states = rt.sql("SELECT run_id, state FROM continuum_activity_tasks ORDER BY run_id")
        assert [s["state"] for s in states] == ["leased", "completed"]


def test_a_task_whose_run_is_locked_elsewhere_is_finished_on_its_own(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        t0, t1 = _leased_tasks(rt, 2)
        with psycopg.connect(pg_dsn) as other:
            other.execute("SELECT 1 FROM continuum_runs WHERE id = 'r0' FOR UPDATE")
            out = rt.journal.finish_tasks([(t0, "v0", False), (t1, "v1", False)], owner="w1")
            assert out[0] is None and isinstance(out[1], tuple)
        assert rt.journal.finish_task(t0, ok=True, result="v0").status == "completed"


def test_a_group_finish_stores_idempotent_results(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        (t0,) = _leased_tasks(rt, 1)
        rt.sql("UPDATE continuum_activity_tasks SET idempotency_key = 'key-1'")
        (out,) = rt.journal.finish_tasks([(t0, {"n": 1}, False)], owner="w1")
        assert isinstance(out, tuple) and out[0].status == "completed"
        assert rt.journal.idempotent_result(t0.activity, "key-1") == (True, {"n": 1})


def test_a_result_that_is_not_json_fails_only_its_own_task(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        t0, t1 = _leased_tasks(rt, 2)
        out = rt.journal.finish_tasks([(t0, object(), False), (t1, "v1", False)], owner="w1")
        assert isinstance(out[0], PayloadError) and isinstance(out[1], tuple)
