"""Events, updates, multi-name signal waits, info and cooperative cancel on PostgreSQL,
through a real Worker and Client (SPEC §13)."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

import continuum
from continuum import hours, minutes
from continuum.client import Client
from continuum.runtime.worker import Worker

CLEANUPS: list[str] = []


@continuum.activity
def note(text: str) -> str:
    return f"noted {text}"


@continuum.activity
def cleanup_step(what: str) -> None:
    CLEANUPS.append(what)


@continuum.workflow(name="it.msg.publisher")
def publisher(n: int) -> int:
    continuum.set_event("stage", "started")
    continuum.wait_signal("go")
    continuum.set_event("stage", "going")
    continuum.set_event("n", n)
    if n > 0:
        continuum.continue_as_new(n - 1)
    return n


@continuum.workflow(name="it.msg.approver")
def approver(limit: int) -> list[int]:
    approved: list[int] = []
    while len(approved) < 2:
        upd = continuum.wait_update("approve")
        amount = int(upd.payload)
        if amount > limit:
            continuum.reject(upd, f"{amount} is over {limit}")
            continue
        continuum.execute(note, str(amount))
        approved.append(amount)
        continuum.reply(upd, {"approved": approved})
    return approved


@continuum.workflow(name="it.msg.forgetful")
def forgetful(_: None) -> str:
    upd = continuum.wait_update("ask")
    return f"ignored {upd.payload}"


@continuum.workflow(name="it.msg.never_waits")
def never_waits(_: None) -> str:
    continuum.wait_signal("never")
    return "signalled"


@continuum.workflow(name="it.msg.decider")
def decider(_: None) -> list[str]:
    name, payload = continuum.wait_signal(["approve", "deny"], timeout=hours(1))
    return [name, payload]


@continuum.workflow(name="it.msg.whoami")
def whoami(_: None) -> dict[str, object]:
    continuum.logger.info("hello")
    return continuum.info().model_dump()


@continuum.workflow(name="it.msg.tidy_child")
def tidy_child(_: None) -> str:
    try:
        continuum.wait_signal("never")
    except continuum.Cancelled:
        continuum.execute(cleanup_step, "child")
        raise
    return "signalled"


@continuum.workflow(name="it.msg.tidy")
def tidy(_: None) -> str:
    ref = continuum.start_child(tidy_child, None, id="kid")
    try:
        return continuum.wait_child(ref)
    except continuum.Cancelled:
        # The child got the cancel too: let it finish its own cleanup first.
        try:
            continuum.wait_child(ref)
        except continuum.ChildFailed as exc:
            continuum.set_event("child", exc.state)
        continuum.execute(cleanup_step, "parent")
        continuum.set_event("cleaned", True)
        raise


@continuum.workflow(name="it.msg.stubborn")
def stubborn(_: None) -> str:
    try:
        continuum.wait_signal("never")
    except continuum.Cancelled:
        continuum.sleep(minutes(30))
    return "too late"


@continuum.workflow(name="it.msg.generations")
def generations(n: int) -> list[object]:
    me = continuum.info()
    if n > 0:
        continuum.continue_as_new(n - 1)
    return [me.attempt, me.correlation_id, me.run_id != me.correlation_id]


@continuum.workflow(name="it.msg.echo")
def echo(n: int) -> int:
    for _ in range(n):
        upd = continuum.wait_update("echo")
        continuum.reply(upd, {"you_said": upd.payload})
    return n


@continuum.workflow(name="it.msg.chatty")
def chatty(_: None) -> None:
    continuum.logger.info("before the signal")
    continuum.wait_signal("go")
    continuum.logger.info("after the signal")


FLOWS = [
    chatty,
    echo,
    generations,
    publisher,
    approver,
    forgetful,
    never_waits,
    decider,
    whoami,
    tidy,
    tidy_child,
    stubborn,
]


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    CLEANUPS.clear()
    with (
        Client(pg_dsn, instance=f"msg-{uuid.uuid4().hex[:8]}") as c,
        Worker(c, workflows=FLOWS, activities=[note, cleanup_step], poll_interval=0.5),
    ):
        yield c


def test_events_wait_notify_and_follow_the_chain(client: Client) -> None:
    run_id = client.start(publisher, 1)
    assert client.get_event(run_id, "stage", timeout=30) == "started"
    with pytest.raises(TimeoutError):
        client.get_event(run_id, "n", timeout=0.3)

    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(client.get_event(run_id, "n", 30)))
    reader.start()
    time.sleep(0.2)
    client.signal(run_id, "go")
    reader.join(30)
    assert got == [1]
    client.signal(run_id, "go")
    assert client.result(run_id, timeout=30) == 0
    assert client.events(run_id) == {"n": 0, "stage": "going"}


def test_events_are_readable_without_a_worker(pg_dsn: str) -> None:
    with Client(pg_dsn, instance=f"msg-{uuid.uuid4().hex[:8]}") as c:
        with Worker(c, workflows=FLOWS, poll_interval=0.5):
            run_id = c.start(publisher, 0)
            assert c.get_event(run_id, "stage", timeout=30) == "started"
        assert c.events(run_id) == {"stage": "started"}
        with pytest.raises(continuum.RunNotFound):
            c.events("no-such-run")


def test_update_reply_rejection_and_terminal(client: Client) -> None:
    run_id = client.start(approver, 100)
    assert client.update(run_id, "approve", 10, timeout=30) == {"approved": [10]}
    with pytest.raises(continuum.UpdateRejected, match="500 is over 100"):
        client.update(run_id, "approve", 500, timeout=30)
    assert client.update(run_id, "approve", 20, timeout=30) == {"approved": [10, 20]}
    assert client.result(run_id, timeout=30) == [10, 20]
    with pytest.raises(continuum.RunTerminal):
        client.update(run_id, "approve", 1, timeout=30)
    types = [e["type"] for e in client.history(run_id)]
    assert types.count("update_replied") == 2
    assert types.count("update_rejected") == 1


def test_update_unanswered_when_the_run_ends(client: Client) -> None:
    run_id = client.start(forgetful, None)
    with pytest.raises(continuum.RunTerminal):
        client.update(run_id, "ask", "q", timeout=30)
    assert client.result(run_id, timeout=30) == "ignored q"


def test_update_timeout_withdraws_the_request(client: Client) -> None:
    run_id = client.start(never_waits, None)
    with pytest.raises(TimeoutError, match="withdrawn"):
        client.update(run_id, "ask", "q", timeout=0.5)
    with psycopg.connect(client.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM continuum_updates").fetchone()
    assert row == (0,)


def test_update_bad_input_writes_nothing(client: Client) -> None:
    run_id = client.start(never_waits, None)
    with pytest.raises(continuum.PayloadError):
        client.update(run_id, "ask", object(), timeout=1)
    with pytest.raises(continuum.PayloadError):
        client.update(run_id, "", 1, timeout=1)
    with pytest.raises(continuum.RunNotFound):
        client.update("no-such-run", "ask", 1, timeout=1)
    with pytest.raises(continuum.PayloadError, match=r"Client\.update: the update name"):
        client.update(run_id, "a\x00b", 1, timeout=1)
    with pytest.raises(continuum.PayloadError):
        client.update(run_id, "ask", "nul\x00", timeout=1)
    with pytest.raises(continuum.PayloadError, match=r"Client\.get_event: the event key"):
        client.get_event(run_id, "k\x00", timeout=1)
    with pytest.raises(continuum.PayloadError):
        client.events(123)  # type: ignore[arg-type]
    with psycopg.connect(client.dsn) as conn:
        row = conn.execute("SELECT count(*) FROM continuum_updates").fetchone()
    assert row == (0,)


def test_wait_signal_on_several_names(client: Client) -> None:
    run_id = client.start(decider, None)
    client.signal(run_id, "deny", "too expensive")
    assert client.result(run_id, timeout=30) == ["deny", "too expensive"]


def test_info_reports_the_run(client: Client) -> None:
    run_id = client.start(whoami, None, id="who-1", namespace="billing")
    me = client.result(run_id, timeout=30)
    assert me["run_id"] == "who-1"
    assert me["namespace"] == "billing"
    assert me["attempt"] == 1
    assert me["correlation_id"] == "who-1"
    assert me["parent_run_id"] is None
    assert me["workflow"] == "it.msg.whoami"


def test_info_attempt_counts_continuations(client: Client) -> None:
    run_id = client.start(generations, 2, id="gen-1")
    assert client.result(run_id, timeout=30) == [3, "gen-1", True]


def test_cooperative_cancel_runs_cleanup_in_parent_and_child(client: Client) -> None:
    run_id = client.start(tidy, None)
    child_id = f"{run_id}/kid"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if client.get_run(child_id).state == "suspended":
                break
        except continuum.RunNotFound:
            pass
        time.sleep(0.05)
    client.cancel(run_id, grace=30)
    with pytest.raises(continuum.RunCancelled):
        client.result(run_id, timeout=30)
    assert client.get_event(run_id, "cleaned", timeout=5) is True
    deadline = time.monotonic() + 30
    while client.get_run(child_id).state != "cancelled" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get_run(child_id).state == "cancelled"
    assert CLEANUPS == ["child", "parent"]
    assert client.get_event(run_id, "child") == "cancelled"
    types = [e["type"] for e in client.history(run_id)]
    assert types.count("cancel_delivered") == 1


def test_grace_running_out_hard_cancels(client: Client) -> None:
    run_id = client.start(stubborn, None)
    time.sleep(0.3)
    client.cancel(run_id, grace=0.5)
    with pytest.raises(continuum.RunCancelled):
        client.result(run_id, timeout=30)
    types = [e["type"] for e in client.history(run_id)]
    assert "cancel_delivered" in types
    assert "timer_started" in types  # the cleanup's sleep began; the grace cut it short


def test_plain_cancel_stays_immediate(client: Client) -> None:
    run_id = client.start(tidy, None)
    time.sleep(0.3)
    info = client.cancel(run_id)
    assert info.state == "cancelled"
    assert "parent" not in CLEANUPS


def test_a_second_cooperative_cancel_keeps_the_first_deadline(client: Client) -> None:
    run_id = client.start(never_waits, None)
    time.sleep(0.3)
    client.cancel(run_id, grace=600)
    with psycopg.connect(client.dsn) as conn:
        first = conn.execute(
            "SELECT cancel_grace_until FROM continuum_runs WHERE id = %s", (run_id,)
        ).fetchone()
        client.cancel(run_id, grace=3600)
        again = conn.execute(
            "SELECT cancel_grace_until FROM continuum_runs WHERE id = %s", (run_id,)
        ).fetchone()
    assert first is not None and first[0] is not None
    assert again == first
    # never_waits does not catch Cancelled: it re-raises at once and ends cancelled.
    with pytest.raises(continuum.RunCancelled):
        client.result(run_id, timeout=30)
    with pytest.raises(continuum.RunNotFound):
        client.cancel("no-such-run", grace=1)
    with pytest.raises(continuum.ConfigurationError):
        client.cancel(run_id, grace=-1)


def test_concurrent_updates_each_get_their_own_reply(client: Client) -> None:
    run_id = client.start(echo, 12)
    replies: dict[int, object] = {}
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            replies[i] = client.update(run_id, "echo", i, timeout=60)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert errors == []
    assert replies == {i: {"you_said": i} for i in range(12)}
    assert client.result(run_id, timeout=30) == 12
    types = [e["type"] for e in client.history(run_id)]
    assert types.count("update_replied") == 12


def test_logger_logs_each_line_once_across_activations(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="continuum.workflow")
    run_id = client.start(chatty, None, id="chatty-pg")
    deadline = time.monotonic() + 30
    while client.get_run(run_id).state != "suspended" and time.monotonic() < deadline:
        time.sleep(0.05)
    client.signal(run_id, "go")
    client.result(run_id, timeout=30)
    lines = [r.getMessage() for r in caplog.records if r.name == "continuum.workflow"]
    assert lines == [
        "[run chatty-pg it.msg.chatty] before the signal",
        "[run chatty-pg it.msg.chatty] after the signal",
    ]


def test_cooperative_cancel_of_a_queued_run_cancels_it_at_once(client: Client) -> None:
    client.configure_queue("msg-one", concurrency=1)
    blocker = client.start(never_waits, None, queue="msg-one")
    waiting = client.start(never_waits, None, queue="msg-one")
    deadline = time.monotonic() + 30
    while client.get_run(blocker).state != "suspended" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.get_run(waiting).state == "queued"
    info = client.cancel(waiting, grace=30)  # never started: nothing to clean up
    assert info.state == "cancelled"
    client.cancel(blocker)


def test_async_client_events_updates_and_cooperative_cancel(client: Client, pg_dsn: str) -> None:
    import asyncio

    async def main() -> None:
        async with continuum.AsyncClient(pg_dsn) as aclient:
            run_id = await aclient.start(approver, 100)
            assert await aclient.update(run_id, "approve", 10, timeout=30) == {"approved": [10]}
            with pytest.raises(continuum.UpdateRejected):
                await aclient.update(run_id, "approve", 500, timeout=30)
            pub = await aclient.start(publisher, 0)
            assert await aclient.get_event(pub, "stage", timeout=30) == "started"
            assert await aclient.events(pub) == {"stage": "started"}
            with pytest.raises(TimeoutError):
                await aclient.get_event(pub, "n", timeout=0.2)
            idle = await aclient.start(never_waits, None)
            with pytest.raises(TimeoutError, match="withdrawn"):
                await aclient.update(idle, "ask", 1, timeout=0.3)
            await aclient.cancel(idle, grace=30)
            with pytest.raises(continuum.RunCancelled):
                await aclient.result(idle, timeout=30)

    asyncio.run(main())


def test_async_client_update_and_get_event_are_woken_by_notify(
    client: Client, pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the backstop poll far beyond the guard below and no timeout of their own, the
    waits can only end through a NOTIFY: their returning shows they listen, not poll."""
    import asyncio

    from continuum.client import async_waiting

    monkeypatch.setattr(async_waiting, "MESSAGE_POLL_S", 3600.0)

    async def main() -> None:
        async with continuum.AsyncClient(pg_dsn) as aclient:
            run_id = await aclient.start(approver, 100)
            # The reply comes after the request is sent: the waiter must be woken.
            assert await aclient.update(run_id, "approve", 7) == {"approved": [7]}
            pub = await aclient.start(publisher, 0)
            assert await aclient.get_event(pub, "stage") == "started"
            waiting = asyncio.create_task(aclient.get_event(pub, "n"))
            await asyncio.sleep(0.2)
            assert not waiting.done()  # "n" is set only after the signal
            await aclient.signal(pub, "go")
            assert await waiting == 0

    asyncio.run(asyncio.wait_for(main(), 120))
