"""Worker-local handoffs: tasks leased at commit, runs leased at task finish, claim+load."""

from __future__ import annotations

from test_pg_journal_harness import Runtime, activity_flow, resolve, runtime

from continuum.engine.activation import activate
from continuum.journal.records import TaskLease


def _commit_first_activation(
    rt: Runtime, run_id: str, owner: str, max_tasks: int
) -> list[TaskLease]:
    lease = rt.journal.claim_run(run_id, "w1")
    assert lease is not None
    flow = resolve(lease.workflow, lease.version_hash)
    assert flow is not None
    result = activate(flow, rt.journal.load_activation(lease))
    return rt.journal.commit_activation_leasing(
        lease, result, task_owner=owner, max_tasks=max_tasks
    )


def test_tasks_leased_at_commit_are_attempt_one_of_that_owner(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "k", id="r1")
        leased = _commit_first_activation(rt, run_id, "w1", 1)
        assert len(leased) == 1 and leased[0].attempt == 1 and leased[0].owner == "w1"
        row = rt.sql("SELECT state, attempt, lease_token FROM continuum_activity_tasks")[0]
        assert row["state"] == "leased" and row["lease_token"] == leased[0].token
        assert rt.journal.claim_task("w2") is None  # nobody else can take it


def test_commit_with_no_slots_leaves_tasks_pending(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "k", id="r1")
        assert _commit_first_activation(rt, run_id, "w1", 0) == []
        assert rt.sql("SELECT state FROM continuum_activity_tasks")[0]["state"] == "pending"


def test_unclaimed_task_lease_does_not_count_an_attempt(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "k", id="r1")
        (task,) = _commit_first_activation(rt, run_id, "w1", 1)
        assert rt.journal.unclaim_tasks([task]) == 1
        assert rt.journal.unclaim_tasks([task]) == 0  # fenced: the lease is gone
        again = rt.journal.claim_task("w2")
        assert again is not None and again.attempt == 1
        assert rt.journal.finish_task(task, ok=True, result="stale").status == "fenced"


def test_finish_leases_and_loads_the_woken_run(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "k", id="r1")
        (task,) = _commit_first_activation(rt, run_id, "w1", 1)
        finish, lease, loaded = rt.journal.finish_task_and_claim(task, "w1", ok=True, result="v")
        assert finish.status == "completed" and lease is not None and loaded is not None
        assert lease.owner == "w1" and loaded.finished_tasks
        assert rt.due_runs() == []  # leased, not merely woken
        assert rt.journal.claim_run(run_id, "w2") is None


def test_finish_only_wakes_a_run_someone_else_holds(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "k", id="r1")
        (task,) = _commit_first_activation(rt, run_id, "w1", 1)
        holder = rt.journal.claim_run(run_id, "w2")
        assert holder is not None
        finish, lease, loaded = rt.journal.finish_task_and_claim(task, "w1", ok=True, result="v")
        assert finish.status == "completed" and lease is None and loaded is None
        row = rt.sql("SELECT lease_token, next_wakeup_at FROM continuum_runs")[0]
        assert row["lease_token"] == holder.token and row["next_wakeup_at"] is not None


def test_claim_and_load_is_one_claim(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "k", id="r1")
        got = rt.journal.claim_and_load(run_id, "w1")
        assert got is not None and got[1].last_seq == 0 and got[0].owner == "w1"
        assert rt.journal.claim_and_load(run_id, "w2") is None
