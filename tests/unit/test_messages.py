"""Events, updates, multi-signal waits and workflow info in the in-memory kit (SPEC §13)."""

from __future__ import annotations

import logging

import pytest

import continuum
from continuum import hours, minutes
from continuum.testing import WorkflowEnvironment


@continuum.activity
def audit(entry: str) -> str:
    return f"audited {entry}"


@continuum.workflow(name="tests.messages.publisher")
def publisher(n: int) -> int:
    continuum.set_event("stage", {"step": "started"})
    continuum.sleep(hours(1))
    continuum.set_event("stage", {"step": "slept"})
    continuum.set_event("count", n)
    if n > 0:
        continuum.continue_as_new(n - 1)
    return n


def test_events_are_published_last_write_wins_and_follow_the_chain(
    env: WorkflowEnvironment,
) -> None:
    run_id = env.start(publisher, 1)
    assert env.get_event(run_id, "stage") == {"step": "started"}
    assert env.events(run_id) == {"stage": {"step": "started"}}
    with pytest.raises(TimeoutError):
        env.get_event(run_id, "count")
    assert env.get_event(run_id, "count", default=None) is None
    env.advance(hours(1))
    # The first run continued; its successor restarted and published "started" again.
    assert env.get_event(run_id, "count") == 1
    assert env.get_event(run_id, "stage") == {"step": "started"}
    env.advance(hours(1))
    assert env.result(run_id) == 0
    assert env.events(run_id) == {"count": 0, "stage": {"step": "slept"}}
    # Replay does not set events twice: one event_set per call executed (3 in the first run).
    types = [e["type"] for e in env.history(run_id)]
    assert types.count("event_set") == 3


def test_set_event_rejects_a_value_that_is_not_json(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.messages.bad_event")
    def bad_event(_: None) -> None:
        continuum.set_event("when", object())

    run_id = env.start(bad_event, None)
    with pytest.raises(continuum.RunFailed, match="PayloadError"):
        env.result(run_id)
    assert env.events(run_id) == {}


@continuum.workflow(name="tests.messages.approver")
def approver(limit: int) -> list[int]:
    approved: list[int] = []
    while len(approved) < 2:
        upd = continuum.wait_update("approve")
        amount = int(upd.payload["amount"])
        if amount > limit:
            continuum.reject(upd, f"amount {amount} is over the limit {limit}")
            continue
        continuum.execute(audit, f"approve {amount}")
        approved.append(amount)
        continuum.reply(upd, {"ok": True, "approved": len(approved)})
    return approved


def test_update_gets_its_reply_after_an_activity(env: WorkflowEnvironment) -> None:
    run_id = env.start(approver, 100)
    assert env.update(run_id, "approve", {"amount": 10}) == {"ok": True, "approved": 1}
    with pytest.raises(continuum.UpdateRejected, match="over the limit 100") as info:
        env.update(run_id, "approve", {"amount": 500})
    assert info.value.reason == "amount 500 is over the limit 100"
    assert env.update(run_id, "approve", {"amount": 20}) == {"ok": True, "approved": 2}
    assert env.result(run_id) == [10, 20]
    with pytest.raises(continuum.RunTerminal):
        env.update(run_id, "approve", {"amount": 1})


def test_updates_sent_before_the_wait_are_buffered_in_order(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.messages.late_answerer")
    def late_answerer(_: None) -> list[str]:
        continuum.sleep(hours(1))
        seen = []
        for _i in range(2):
            upd = continuum.wait_update("note")
            seen.append(upd.payload)
            continuum.reply(upd, upd.payload.upper())
        return seen

    run_id = env.start(late_answerer, None)
    first, _ = env.journal.send_update(run_id, "note", "a")
    second, _ = env.journal.send_update(run_id, "note", "b")
    env.advance(hours(1))
    assert env.result(run_id) == ["a", "b"]
    assert env.journal.update_status(first).answer == "A"
    assert env.journal.update_status(second).answer == "B"


def test_update_timeout_withdraws_an_unaccepted_request(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.messages.sleepy")
    def sleepy(_: None) -> str:
        continuum.sleep(hours(2))
        upd = continuum.wait_update("ping", timeout=minutes(5))
        continuum.reply(upd, "pong")
        return "done"

    run_id = env.start(sleepy, None)
    with pytest.raises(TimeoutError, match="withdrawn"):
        env.update(run_id, "ping", None, timeout=minutes(30))
    # The withdrawn request is not acted on later: the wait times out instead.
    env.advance(hours(3))
    env.advance(minutes(10))
    with pytest.raises(continuum.RunFailed, match="SignalTimeout"):
        env.result(run_id)


def test_update_with_timeout_advances_the_virtual_clock(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.messages.slow_reply")
    def slow_reply(_: None) -> None:
        upd = continuum.wait_update("ping")
        continuum.sleep(minutes(10))
        continuum.reply(upd, "pong")

    run_id = env.start(slow_reply, None)
    assert env.update(run_id, "ping", timeout=hours(1)) == "pong"
    assert env.result(run_id) is None


def test_update_unanswered_when_the_run_ends_raises_run_terminal(
    env: WorkflowEnvironment,
) -> None:
    @continuum.workflow(name="tests.messages.forgetful")
    def forgetful(_: None) -> str:
        upd = continuum.wait_update("ask")
        return f"ignored {upd.payload}"

    run_id = env.start(forgetful, None)
    with pytest.raises(continuum.RunTerminal):
        env.update(run_id, "ask", "q")
    assert env.result(run_id) == "ignored q"


def test_an_update_is_answered_at_most_once(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.messages.twice")
    def twice(_: None) -> str:
        upd = continuum.wait_update("ask")
        continuum.reply(upd, 1)
        try:
            continuum.reject(upd, "second answer")
        except continuum.UpdateAlreadyAnswered as exc:
            return str(exc)
        return "answered twice"

    run_id = env.start(twice, None)
    assert env.update(run_id, "ask") == 1
    assert "already answered" in env.result(run_id)


def test_event_keys_and_rejection_reasons_postgres_cannot_store_fail_clearly(
    env: WorkflowEnvironment,
) -> None:
    @continuum.workflow(name="tests.messages.nul_key")
    def nul_key(_: None) -> None:
        continuum.set_event("bad\x00key", 1)

    @continuum.workflow(name="tests.messages.nul_reason")
    def nul_reason(_: None) -> None:
        continuum.reject(continuum.wait_update("ask"), "no\x00pe")

    run_id = env.start(nul_key, None)
    with pytest.raises(continuum.RunFailed, match=r"continuum\.set_event: the event key"):
        env.result(run_id)
    assert env.events(run_id) == {}
    run_id = env.start(nul_reason, None)
    with pytest.raises(continuum.RunTerminal):
        env.update(run_id, "ask")
    with pytest.raises(continuum.RunFailed, match="rejection reason"):
        env.result(run_id)


def test_reply_needs_an_update(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.messages.bad_reply")
    def bad_reply(_: None) -> None:
        continuum.reply("not an update", 1)  # type: ignore[arg-type]

    run_id = env.start(bad_reply, None)
    with pytest.raises(continuum.RunFailed, match="expects the Update"):
        env.result(run_id)


def test_reply_outside_a_workflow_is_refused() -> None:
    with pytest.raises(continuum.WorkflowContextError):
        continuum.reply(continuum.Update(1, "x", None), 1)
    with pytest.raises(continuum.WorkflowContextError):
        continuum.set_event("k", 1)


def test_updates_follow_continue_as_new(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.messages.rolling")
    def rolling(n: int) -> int:
        upd = continuum.wait_update("bump")
        continuum.reply(upd, n + 1)
        if n < 2:
            continuum.continue_as_new(n + 1)
        return n

    run_id = env.start(rolling, 0)
    assert [env.update(run_id, "bump") for _ in range(3)] == [1, 2, 3]
    assert env.result(run_id) == 2


@continuum.workflow(name="tests.messages.decider")
def decider(_: None) -> list[list[str]]:
    seen = []
    for _i in range(2):
        name, payload = continuum.wait_signal(["approve", "deny"], timeout=hours(1))
        seen.append([name, payload])
    try:
        continuum.wait_signal(["approve", "deny"], timeout=hours(1))
    except continuum.SignalTimeout:
        seen.append(["timeout", ""])
    return seen


def test_wait_signal_on_several_names(env: WorkflowEnvironment) -> None:
    run_id = env.start(decider, None)
    env.inject_signal(run_id, "deny", "too expensive")
    env.advance(minutes(1))
    env.inject_signal(run_id, "approve", "ok")
    env.advance(hours(2))
    assert env.result(run_id) == [["deny", "too expensive"], ["approve", "ok"], ["timeout", ""]]


def test_buffered_signals_of_several_names_come_in_arrival_order(
    env: WorkflowEnvironment,
) -> None:
    @continuum.workflow(name="tests.messages.buffered")
    def buffered(_: None) -> list[str]:
        continuum.sleep(hours(1))
        return [continuum.wait_signal(["a", "b", "c"])[0] for _ in range(3)]

    run_id = env.start(buffered, None)
    for name in ("c", "a", "b"):
        env.inject_signal(run_id, name, None)
    env.advance(hours(1))
    assert env.result(run_id) == ["c", "a", "b"]


def test_wait_signal_rejects_an_empty_name_list(env: WorkflowEnvironment) -> None:
    @continuum.workflow(name="tests.messages.no_names")
    def no_names(_: None) -> None:
        continuum.wait_signal([])

    run_id = env.start(no_names, None)
    with pytest.raises(continuum.RunFailed, match="non-empty list"):
        env.result(run_id)


@continuum.workflow(name="tests.messages.child_info")
def child_info(_: None) -> dict[str, object]:
    return continuum.info().model_dump()


@continuum.workflow(name="tests.messages.parent_info")
def parent_info(n: int) -> list[dict[str, object]]:
    me = continuum.info().model_dump()
    if n == 0:
        continuum.continue_as_new(1)
    return [me, continuum.child(child_info, None, id="info-child")]


def test_info_describes_the_run(env: WorkflowEnvironment) -> None:
    run_id = env.start(parent_info, 0, id="info-root", namespace="billing")
    me, child = env.result(run_id)
    assert me["workflow"] == "tests.messages.parent_info"
    assert me["namespace"] == "billing"
    assert me["attempt"] == 2  # the successor of one continue_as_new
    assert me["correlation_id"] == "info-root"
    assert me["run_id"] != "info-root"
    assert me["version_hash"] == parent_info.version_hash
    assert child["parent_run_id"] == me["run_id"]
    assert child["run_id"] == f"{me['run_id']}/info-child"
    assert child["attempt"] == 1
    assert child["namespace"] == "billing"


def test_logger_is_silent_while_replaying_and_tags_records(
    env: WorkflowEnvironment, caplog: pytest.LogCaptureFixture
) -> None:
    @continuum.workflow(name="tests.messages.chatty")
    def chatty(_: None) -> None:
        continuum.logger.info("before the sleep")
        continuum.sleep(hours(1))
        continuum.logger.info("after the sleep")

    caplog.set_level(logging.INFO, logger="continuum.workflow")
    run_id = env.start(chatty, None, id="chatty-1")
    env.advance(hours(1))
    env.result(run_id)
    messages = [r.getMessage() for r in caplog.records if r.name == "continuum.workflow"]
    assert messages == [
        "[run chatty-1 tests.messages.chatty] before the sleep",
        "[run chatty-1 tests.messages.chatty] after the sleep",
    ]
    record = next(r for r in caplog.records if r.name == "continuum.workflow")
    assert record.continuum_run_id == "chatty-1"  # type: ignore[attr-defined]
    assert record.continuum_workflow == "tests.messages.chatty"  # type: ignore[attr-defined]
