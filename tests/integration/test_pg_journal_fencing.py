"""Every ownership-dependent write of the Postgres journal is fenced by its token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_pg_journal_harness import activity_flow, runtime, twice_flow, waiter_flow

from continuum.engine.activation import activate
from continuum.journal.fencing import Fenced
from continuum.journal.records import Lease


def _claim(rt, run_id: str, owner: str = "w1") -> Lease:  # type: ignore[no-untyped-def]
    lease = rt.journal.claim_run(run_id, owner)
    assert lease is not None
    return lease


def test_commit_with_a_stale_run_token_is_fenced_and_writes_nothing(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(activity_flow, "a", id="r1")
        stale = _claim(rt, run_id)
        result = activate(activity_flow, rt.journal.load_activation(stale))
        # The lease expires and another worker takes the run over.
        rt.sql("UPDATE continuum_runs SET lease_expires_at = now() - interval '1s'")
        fresh = _claim(rt, run_id, "w2")
        assert fresh.token != stale.token
        with pytest.raises(Fenced):
            rt.journal.commit_activation(stale, result)
        assert rt.journal.history(run_id) == []
        assert rt.sql("SELECT count(*) AS n FROM continuum_activity_tasks")[0]["n"] == 0
        with pytest.raises(Fenced):
            rt.journal.load_activation(stale)
        rt.journal.commit_activation(
            fresh, activate(activity_flow, rt.journal.load_activation(fresh))
        )
        assert rt.sql("SELECT count(*) AS n FROM continuum_activity_tasks")[0]["n"] == 1


def test_commit_after_the_journal_moved_is_fenced(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(waiter_flow, None, id="r1")
        lease = _claim(rt, run_id)
        first = activate(waiter_flow, rt.journal.load_activation(lease))
        second = activate(waiter_flow, rt.journal.load_activation(lease))
        rt.journal.commit_activation(lease, first)
        lease2 = _claim(rt, run_id)
        with pytest.raises(Fenced):
            rt.journal.commit_activation(lease2, second)  # seq 1 again


def test_terminal_run_fences_commit_and_late_release(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(waiter_flow, None, id="r1")
        lease = _claim(rt, run_id)
        result = activate(waiter_flow, rt.journal.load_activation(lease))
        rt.journal.cancel(run_id)
        with pytest.raises(Fenced):
            rt.journal.commit_activation(lease, result)
        rt.journal.release_run(lease, timedelta(seconds=1))  # a no-op, not an error
        assert rt.state(run_id) == "cancelled"
        assert rt.sql("SELECT lease_token FROM continuum_runs")[0]["lease_token"] is None


def test_run_heartbeat_reports_only_leases_still_held(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        a = _claim(rt, rt.start(waiter_flow, None, id="a"))
        b = _claim(rt, rt.start(waiter_flow, None, id="b"))
        assert rt.journal.heartbeat_runs("w1", [a.token, b.token]) == {a.token, b.token}
        rt.sql("UPDATE continuum_runs SET lease_expires_at = now() - interval '1s' WHERE id = 'b'")
        b2 = _claim(rt, "b", "w2")
        assert rt.journal.heartbeat_runs("w1", [a.token, b.token]) == {a.token}
        assert rt.journal.heartbeat_runs("w2", [b2.token]) == {b2.token}
        expires = rt.sql(
            "SELECT lease_expires_at > now() + interval '20s' AS ok FROM continuum_runs"
        )
        assert all(r["ok"] for r in expires)


def test_orphaned_run_leases_are_handed_back_and_made_due(pg_dsn: str) -> None:
    # An orphan: leased to w1 by a transaction whose acknowledgement w1 never saw.
    with runtime(pg_dsn) as rt:
        held = _claim(rt, rt.start(waiter_flow, None, id="held"))
        orphan = _claim(rt, rt.start(waiter_flow, None, id="orphan"))
        young = _claim(rt, rt.start(waiter_flow, None, id="young"))
        theirs = _claim(rt, rt.start(waiter_flow, None, id="theirs"), "w2")
        rt.sql(
            "UPDATE continuum_runs SET lease_expires_at = lease_expires_at - interval '5s'"
            " WHERE id <> 'young'"
        )
        late = activate(waiter_flow, rt.journal.load_activation(orphan))
        min_age = timedelta(seconds=2)
        assert rt.journal.release_orphaned_runs("w1", [held.token], min_age) == ["orphan"]
        rows = {
            r["id"]: r
            for r in rt.sql(
                "SELECT id, lease_owner, lease_token, next_wakeup_at <= now() AS due"
                " FROM continuum_runs"
            )
        }
        assert rows["orphan"]["lease_token"] is None and rows["orphan"]["due"]
        assert rows["held"]["lease_token"] == held.token
        assert rows["young"]["lease_token"] == young.token  # maybe on its way to a slot
        assert rows["theirs"]["lease_token"] == theirs.token
        # The orphan's old token writes nothing any more.
        with pytest.raises(Fenced):
            rt.journal.commit_activation(orphan, late)


def test_finish_task_with_a_stale_token_is_fenced(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(twice_flow, "k", id="r1")
        rt.activate_due()
        task = rt.journal.claim_task("w1")
        assert task is not None
        forged = type(task)(**{**_fields(task), "token": task.token + 1000})
        assert rt.journal.finish_task(forged, ok=True, result="zombie").status == "fenced"
        assert rt.journal.heartbeat_task(forged) is False
        assert rt.journal.finish_task(task, ok=True, result="k").status == "completed"
        # Finishing twice is fenced too: the lease is gone.
        assert rt.journal.finish_task(task, ok=True, result="again").status == "fenced"
        rt.run_until_idle()
        assert rt.journal.get_run(run_id).result == "k"


def test_finish_task_from_a_previous_attempt_is_fenced_after_requeue(pg_dsn: str) -> None:
    with runtime(pg_dsn) as rt:
        run_id = rt.start(twice_flow, "k", id="r1")
        rt.activate_due()
        zombie = rt.journal.claim_task("w1")
        assert zombie is not None and zombie.attempt == 1
        rt.sql("UPDATE continuum_activity_tasks SET lease_expires_at = now() - interval '1s'")
        assert rt.journal.requeue_expired_tasks() == 1
        rt.sql("UPDATE continuum_activity_tasks SET available_at = now()")
        live = rt.journal.claim_task("w2")
        assert live is not None and live.attempt == 2
        # Same token would not even be enough: the attempt is part of the fence.
        same_token = type(zombie)(**{**_fields(zombie), "token": live.token})
        assert rt.journal.finish_task(same_token, ok=False, error={"type": "X"}).status == "fenced"
        assert rt.journal.finish_task(zombie, ok=True, result="zombie").status == "fenced"
        assert rt.journal.heartbeat_task(zombie) is False
        assert rt.journal.heartbeat_task(live) is True
        assert rt.journal.finish_task(live, ok=True, result="live").status == "completed"
        rt.run_until_idle()
        assert rt.journal.get_run(run_id).result == "live"
        row = rt.sql("SELECT attempt, state FROM continuum_activity_tasks")[0]
        assert row == {"attempt": 2, "state": "completed"}


def test_task_heartbeat_extends_on_the_database_clock(pg_dsn: str) -> None:
    with runtime(pg_dsn, task_lease_ttl=timedelta(seconds=5)) as rt:
        rt.start(twice_flow, "k", id="r1")
        rt.activate_due()
        task = rt.journal.claim_task("w1")
        assert task is not None
        assert rt.journal.heartbeat_task(task, timedelta(minutes=10)) is True
        row = rt.sql(
            "SELECT lease_expires_at - now() > interval '9 minutes' AS ok "
            "FROM continuum_activity_tasks"
        )[0]
        assert row["ok"]


def _fields(task: object) -> dict[str, object]:
    return {name: getattr(task, name) for name in task.__slots__}  # type: ignore[attr-defined]
