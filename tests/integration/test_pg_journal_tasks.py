"""Activity tasks on Postgres: retries with SQL backoff, crash requeue, idempotency, takeover."""

from __future__ import annotations

from test_pg_journal_harness import CALLS, activity_flow, greeting_flow, runtime, twice_flow

from continuum.engine import events as ev
from continuum.journal.records import NewRun


def test_retry_backoff_is_computed_on_the_database_clock(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        rt.start(greeting_flow, "ada", id="g1")
        rt.activate_due()
        greet_task = rt.journal.claim_task("w1")
        assert greet_task is not None
        rt.execute(greet_task)
        rt.activate_due()
        flaky = rt.journal.claim_task("w1")
        assert flaky is not None and flaky.activity.endswith("flaky")
        finish = rt.journal.finish_task(flaky, ok=False, error={"type": "RuntimeError"})
        assert finish.status == "retry" and finish.retry_at is not None
        row = rt.sql(
            "SELECT state, available_at - updated_at AS delay, error FROM continuum_activity_tasks "
            "WHERE id = %s",
            (flaky.id,),
        )[0]
        assert row["state"] == "pending" and row["error"] == {"type": "RuntimeError"}
        assert row["delay"].total_seconds() == 0.05  # initial_ms * factor ** (attempt - 1)
        rt.sql(
            "UPDATE continuum_activity_tasks SET available_at = now() WHERE id = %s", (flaky.id,)
        )
        second = rt.journal.claim_task("w1")
        assert second is not None and second.attempt == 2
        rt.journal.finish_task(second, ok=False, error={"type": "RuntimeError"})
        delay = rt.sql(
            "SELECT available_at - updated_at AS delay FROM continuum_activity_tasks WHERE id = %s",
            (flaky.id,),
        )[0]["delay"]
        assert delay.total_seconds() == 0.1


def test_crash_requeue_consumes_an_attempt_and_then_exhausts(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(twice_flow, "k", id="r1")
        rt.activate_due()
        for expected_attempt in (1, 2):
            rt.sql("UPDATE continuum_activity_tasks SET available_at = now()")
            task = rt.journal.claim_task("dead-worker")
            assert task is not None and task.attempt == expected_attempt
            assert rt.journal.requeue_expired_tasks() == 0  # lease still live
            rt.journal.expire_leases_of(["dead-worker"])
            assert rt.journal.requeue_expired_tasks() == 1
        row = rt.sql("SELECT state, attempt, error FROM continuum_activity_tasks")[0]
        assert row["state"] == "failed" and row["attempt"] == 2
        assert row["error"]["type"] == "AttemptsExhausted"
        assert row["error"]["code"] == "attempts_exhausted"
        assert "attempts_exhausted" in row["error"]["message"]
        assert CALLS == []  # never re-executed after the last lost attempt
        assert rt.due_runs() == [run_id]  # the run was woken to see the failure
        rt.run_until_idle()
        info = rt.journal.get_run(run_id)
        assert info.state.value == "failed"
        failed = [e for e in rt.journal.history(run_id) if e.type == ev.ACTIVITY_FAILED]
        assert failed and failed[0].data["error"]["code"] == "attempts_exhausted"


def test_max_attempts_one_crash_fails_instead_of_rerunning(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        rt.start(activity_flow, "k", id="r1")
        rt.activate_due()
        assert rt.journal.claim_task("dead") is not None
        rt.sql("UPDATE continuum_activity_tasks SET lease_expires_at = now() - interval '1s'")
        assert rt.journal.requeue_expired_tasks() == 1
        assert rt.journal.claim_task("w2") is None
        assert rt.sql("SELECT state FROM continuum_activity_tasks") == [{"state": "failed"}]


def test_dead_worker_runs_are_due_immediately_after_expire_leases_of(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(twice_flow, "k", id="r1")
        assert rt.journal.claim_due_runs("dead", 10)[0].run_id == run_id
        assert rt.journal.claim_due_runs("live", 10) == []
        assert rt.journal.expire_leases_of(["dead"]) == (1, 0)
        taken = rt.journal.claim_due_runs("live", 10)
        assert [lease.run_id for lease in taken] == [run_id]
        assert taken[0].owner == "live"


def test_expired_lease_recovery_makes_a_stalled_run_claimable(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(twice_flow, "k", id="r1")
        assert rt.journal.claim_due_runs("stalled", 10)
        assert rt.journal.recover_expired_runs() == []  # lease still live
        rt.sql("UPDATE continuum_runs SET lease_expires_at = now() - interval '1s'")
        assert rt.journal.recover_expired_runs() == [run_id]
        assert [lease.run_id for lease in rt.journal.claim_due_runs("live", 10)] == [run_id]


def test_completed_task_with_a_key_fills_the_idempotency_table(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        rt.journal.create_run(NewRun("r1", greeting_flow.name, greeting_flow.version_hash, "ada"))
        rt.activate_due()
        task = rt.journal.claim_task("w1")
        assert task is not None
        rt.sql(
            "UPDATE continuum_activity_tasks SET idempotency_key = 'k1' WHERE id = %s", (task.id,)
        )
        assert rt.journal.idempotent_result(task.activity, "k1") == (False, None)
        assert rt.journal.finish_task(task, ok=True, result=None).status == "completed"
        assert rt.journal.idempotent_result(task.activity, "k1") == (True, None)


def test_claim_tasks_hands_each_task_to_one_worker(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        for i in range(5):
            rt.start(activity_flow, str(i), id=f"r{i}")
        rt.activate_due()
        a = rt.journal.claim_tasks("a", 3)
        b = rt.journal.claim_tasks("b", 3)
        assert len(a) == 3 and len(b) == 2
        assert {t.id for t in a}.isdisjoint({t.id for t in b})
        assert all(t.owner == "a" and t.claimed_at is not None for t in a)
