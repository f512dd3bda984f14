"""Cooperative cancellation in the in-memory kit (SPEC §13, ``cancel(grace=)``)."""

from __future__ import annotations

import pytest

import continuum
from continuum import days, hours, minutes
from continuum.journal.records import NewRun
from continuum.testing import WorkflowEnvironment, replay

CLEANED: list[str] = []


@continuum.activity
def cleanup(what: str) -> str:
    CLEANED.append(what)
    return f"cleaned {what}"


@continuum.workflow(name="tests.cancel.tidy")
def tidy(_: None) -> str:
    try:
        continuum.sleep(days(1))
        return "slept"
    except continuum.Cancelled:
        continuum.execute(cleanup, "except")
        continuum.set_event("cleanup", continuum.execute(cleanup, "finally"))
        raise


def test_cancel_with_grace_runs_cleanup_effects_and_ends_cancelled(
    env: WorkflowEnvironment,
) -> None:
    CLEANED.clear()
    run_id = env.start(tidy, None)
    env.cancel(run_id, grace=minutes(5))
    assert env.get_run(run_id).state == "cancelled"
    assert CLEANED == ["except", "finally"]
    assert env.get_event(run_id, "cleanup") == "cleaned finally"
    with pytest.raises(continuum.RunCancelled):
        env.result(run_id)
    types = [e["type"] for e in env.history(run_id)]
    assert types.count("cancel_delivered") == 1
    assert types[-1] == "run_cancelled"


@continuum.activity
def slow_cleanup(what: str) -> str:
    CLEANED.append(what)
    return what


@continuum.workflow(name="tests.cancel.waits_in_cleanup")
def waits_in_cleanup(_: None) -> str:
    try:
        continuum.wait_signal("never")
    except continuum.Cancelled:
        # Cleanup may wait too: the run stays alive (within its grace) until it ends.
        continuum.sleep(minutes(1))
        continuum.execute(slow_cleanup, "after a minute")
        return "cleaned up"
    return "signalled"


def test_cleanup_may_wait_and_replays_the_delivery(env: WorkflowEnvironment) -> None:
    CLEANED.clear()
    run_id = env.start(waits_in_cleanup, None)
    env.cancel(run_id, grace=minutes(5))
    assert env.get_run(run_id).state == "suspended"
    # A signal arriving now must not resolve the interrupted wait on replay.
    env.inject_signal(run_id, "never", "late")
    env.advance(minutes(1))
    assert env.get_run(run_id).state == "cancelled"  # returned after the delivery
    assert CLEANED == ["after a minute"]
    # The journaled delivery replays at the same wait, offline too.
    assert replay(waits_in_cleanup, env.history(run_id)).state == "cancelled"


def test_grace_running_out_hard_cancels(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.cancel.stubborn")
    def stubborn(_: None) -> str:
        try:
            continuum.sleep(days(1))
        except continuum.Cancelled:
            continuum.sleep(hours(1))  # longer than the grace
            return "too late"
        return "slept"

    run_id = env.start(stubborn, None)
    env.cancel(run_id, grace=minutes(5))
    assert env.get_run(run_id).state == "suspended"
    env.advance(minutes(5))
    assert env.get_run(run_id).state == "cancelled"


def test_except_exception_does_not_swallow_cancelled(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.cancel.broad_except")
    def broad_except(_: None) -> str:
        try:
            continuum.sleep(days(1))
        except Exception:
            return "swallowed"
        return "slept"

    run_id = env.start(broad_except, None)
    env.cancel(run_id, grace=minutes(5))
    assert env.get_run(run_id).state == "cancelled"


def test_plain_cancel_stays_immediate(env: WorkflowEnvironment) -> None:
    CLEANED.clear()
    run_id = env.start(tidy, None)
    env.cancel(run_id)
    assert env.get_run(run_id).state == "cancelled"
    assert CLEANED == []


@continuum.workflow(name="tests.cancel.child")
def cancel_child(_: None) -> str:
    try:
        continuum.sleep(days(1))
    except continuum.Cancelled:
        continuum.execute(cleanup, "child")
        raise
    return "child slept"


@continuum.workflow(name="tests.cancel.parent")
def cancel_parent(_: None) -> str:
    try:
        return continuum.child(cancel_child, None, id="kid")
    except continuum.Cancelled:
        continuum.execute(cleanup, "parent")
        raise


def test_cooperative_cancel_reaches_children(env: WorkflowEnvironment) -> None:
    CLEANED.clear()
    run_id = env.start(cancel_parent, None)
    env.cancel(run_id, grace=minutes(5))
    assert sorted(CLEANED) == ["child", "parent"]
    assert env.get_run(run_id).state == "cancelled"
    assert env.get_run(f"{run_id}/kid").state == "cancelled"


def test_completed_run_cannot_be_cancelled(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.cancel.quick")
    def quick(_: None) -> int:
        return 1

    run_id = env.start(quick, None)
    with pytest.raises(continuum.RunTerminal):
        env.cancel(run_id, grace=minutes(1))


def test_raising_cancelled_without_a_request_fails_the_run(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.cancel.self_raise")
    def self_raise(_: None) -> None:
        raise continuum.Cancelled()

    run_id = env.start(self_raise, None)
    with pytest.raises(continuum.RunFailed, match="without a cancel request"):
        env.result(run_id)


@continuum.workflow(name="tests.cancel.finally_cleanup")
def finally_cleanup(_: None) -> str:
    try:
        continuum.sleep(days(1))
        return "slept"
    finally:
        # Runs on every path: during a suspend's unwind it suspends too (journals
        # nothing); after a delivered Cancelled it journals normally.
        continuum.set_event("cleanup", continuum.execute(cleanup, "finally"))


def test_finally_effects_run_after_a_delivered_cancel(env: WorkflowEnvironment) -> None:
    CLEANED.clear()
    run_id = env.start(finally_cleanup, None)
    assert CLEANED == []  # the first activation suspended in sleep; finally journaled nothing
    env.cancel(run_id, grace=minutes(5))
    assert env.get_run(run_id).state == "cancelled"
    assert CLEANED == ["finally"]
    assert env.get_event(run_id, "cleanup") == "cleaned finally"
    assert replay(finally_cleanup, env.history(run_id)).state == "cancelled"


def test_finally_effects_run_when_the_run_completes(env: WorkflowEnvironment) -> None:
    CLEANED.clear()
    run_id = env.start(finally_cleanup, None)
    env.advance(days(1))
    assert env.result(run_id) == "slept"
    assert CLEANED == ["finally"]


def test_hello_cancellation_port_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    from examples.hello_cancellation import flows as hello

    monkeypatch.setattr(hello, "JOB_SECONDS", 0.0)
    hello.CLEANUPS.clear()
    env = WorkflowEnvironment(paranoid=True)
    # In memory activities run inline: pretend the long job is still running by
    # cancelling before the activity worker gets to it.
    run_id = env.journal.create_run(
        NewRun("hello-1", hello.cancellable.name, hello.cancellable.version_hash, "report-7")
    )[0].id
    env.driver.activate_run(run_id, "test")
    assert env.get_event(run_id, "status") == "working"
    env.cancel(run_id, grace=minutes(1))
    assert env.get_run(run_id).state == "cancelled"
    assert hello.CLEANUPS == ["report-7"]
    assert env.get_event(run_id, "status") == "cleaned up after report-7"


def test_a_second_request_keeps_the_first_deadline_and_plain_cancel_is_hard(
    env: WorkflowEnvironment,
) -> None:
    @continuum.workflow(name="tests.cancel.slow_cleanup")
    def slow_cleanup_flow(_: None) -> str:
        try:
            continuum.sleep(days(1))
        except continuum.Cancelled:
            continuum.sleep(minutes(10))
            return "cleaned"
        return "slept"

    run_id = env.start(slow_cleanup_flow, None)
    env.cancel(run_id, grace=minutes(5))
    env.cancel(run_id, grace=hours(2))  # does not extend the first grace
    env.advance(minutes(5))
    assert env.get_run(run_id).state == "cancelled"

    other = env.start(slow_cleanup_flow, None)
    env.cancel(other, grace=hours(1))
    assert env.get_run(other).state == "suspended"  # cleaning up
    env.cancel(other)  # plain cancel: at once
    assert env.get_run(other).state == "cancelled"
    with pytest.raises(continuum.ConfigurationError, match="must not be negative"):
        env.cancel(run_id, grace=-minutes(1))


def test_snapshot_compaction_keeps_the_cancel_delivery(env: WorkflowEnvironment) -> None:
    from continuum.engine.activation import activate
    from continuum.engine.events import Event
    from continuum.engine.snapshot import compact, decode, encode
    from continuum.engine.types import ActivationInput

    CLEANED.clear()
    run_id = env.start(waits_in_cleanup, None)
    env.cancel(run_id, grace=minutes(5))
    env.inject_signal(run_id, "never", "late")  # must not resolve the interrupted wait
    env.advance(minutes(1))
    events = env.journal.history(run_id)
    through = events[-1].seq
    stored = decode(encode(compact(events), through), 1, through)
    assert "cancel_delivered" in [e.type for e in stored]

    def outcome(history: list[Event]) -> str:
        inp = ActivationInput(
            run_id=run_id,
            workflow=waits_in_cleanup.name,
            version_hash=waits_in_cleanup.version_hash,
            input=None,
            events=history,
            now=env.now,
            last_seq=through,
        )
        return activate(waits_in_cleanup, inp).outcome.kind

    assert outcome(stored) == outcome(events) == "cancelled"
