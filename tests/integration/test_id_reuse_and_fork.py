"""start(if_exists=...) and Client.fork on real Postgres (SPEC §16, §18)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

import continuum
from continuum import seconds
from continuum.client import Client
from continuum.runtime.worker import Worker

CALLS: list[str] = []
BROKEN = {"step2": True}


@continuum.activity
def step1(n: int) -> int:
    CALLS.append(f"step1:{n}")
    return n + 1


@continuum.activity(max_attempts=1)
def step2(n: int) -> int:
    CALLS.append(f"step2:{n}")
    if BROKEN["step2"]:
        raise ValueError("bug in step2")
    return n * 10


@continuum.workflow
def two_steps(n: int) -> int:
    a = continuum.execute(step1, n)
    return continuum.execute(step2, a)


@continuum.workflow
def naps(n: int) -> int:
    continuum.sleep(seconds(0.2))
    return continuum.execute(step1, n)


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c


@pytest.fixture
def worker(client: Client) -> Iterator[Worker]:
    CALLS.clear()
    BROKEN["step2"] = True
    with Worker(client, workflows=[two_steps, naps], poll_interval=0.5) as w:
        yield w


def _failed_run(client: Client, run_id: str) -> None:
    client.start(two_steps, 1, id=run_id)
    with pytest.raises(continuum.RunFailed):
        client.result(run_id, timeout=20)


def test_if_exists_return_is_the_default(client: Client, worker: Worker) -> None:
    _failed_run(client, "r1")
    assert client.start(two_steps, 5, id="r1") == "r1"
    assert client.start(two_steps, 5, id="r1", if_exists="return") == "r1"
    assert client.get_run("r1").state == continuum.RunState.FAILED


def test_if_exists_error_raises_and_changes_nothing(client: Client, worker: Worker) -> None:
    _failed_run(client, "r2")
    with pytest.raises(continuum.RunAlreadyExists, match="if_exists"):
        client.start(two_steps, 5, id="r2", if_exists="error")
    assert client.get_run("r2").state == continuum.RunState.FAILED


def test_if_exists_restart_failed_reruns_a_failed_run(client: Client, worker: Worker) -> None:
    _failed_run(client, "r3")
    BROKEN["step2"] = False
    assert client.start(two_steps, 4, id="r3", if_exists="restart_failed") == "r3"
    assert client.result("r3", timeout=20) == 50
    history = client.history("r3")
    assert [e["seq"] for e in history] == list(range(1, len(history) + 1))
    assert sum(e["type"] == "run_failed" for e in history) == 0


def test_if_exists_restart_failed_returns_a_completed_run(client: Client, worker: Worker) -> None:
    BROKEN["step2"] = False
    client.start(two_steps, 1, id="r4")
    assert client.result("r4", timeout=20) == 20
    assert client.start(two_steps, 7, id="r4", if_exists="restart_failed") == "r4"
    assert client.result("r4", timeout=20) == 20


def test_bad_if_exists_is_refused_before_anything_is_written(client: Client) -> None:
    with pytest.raises(continuum.ConfigurationError, match="if_exists"):
        client.start(two_steps, 1, id="r5", if_exists="replace")
    with pytest.raises(continuum.RunNotFound):
        client.get_run("r5")


def test_fork_reruns_from_the_failed_step_without_repeating_earlier_steps(
    client: Client, worker: Worker
) -> None:
    _failed_run(client, "orig")
    history = client.history("orig")
    second = next(
        e
        for e in history
        if e["type"] == "activity_scheduled" and e["data"]["activity"].endswith("step2")
    )
    before = list(CALLS)
    BROKEN["step2"] = False  # "deploy the fix"
    fork_id = client.fork("orig", at_seq=second["seq"] - 1)
    assert client.result(fork_id, timeout=20) == 20
    new_calls = CALLS[len(before) :]
    assert new_calls == ["step2:2"]  # step1 was not executed again
    info = client.get_run(fork_id)
    assert info.forked_from_run_id == "orig"
    assert info.forked_at_seq == second["seq"] - 1
    copied = client.history(fork_id)[: second["seq"] - 1]
    assert [(e["seq"], e["type"]) for e in copied] == [
        (e["seq"], e["type"]) for e in history[: second["seq"] - 1]
    ]
    assert client.get_run("orig").state == continuum.RunState.FAILED  # untouched
    assert client.history("orig") == history


def test_fork_of_a_cut_with_an_open_activity_runs_it_again(client: Client, worker: Worker) -> None:
    _failed_run(client, "orig2")
    history = client.history("orig2")
    second = next(
        e
        for e in history
        if e["type"] == "activity_scheduled" and e["data"]["activity"].endswith("step2")
    )
    BROKEN["step2"] = False
    fork_id = client.fork("orig2", at_seq=second["seq"], id="orig2-fixed")
    assert fork_id == "orig2-fixed"
    assert client.result(fork_id, timeout=20) == 20


def test_fork_of_a_whole_completed_run_replays_and_completes_again(
    client: Client, worker: Worker
) -> None:
    client.start(naps, 3, id="nap")
    assert client.result("nap", timeout=20) == 4
    calls = len(CALLS)
    fork_id = client.fork("nap")
    assert client.result(fork_id, timeout=20) == 4
    assert len(CALLS) == calls  # nothing re-executed: the whole journal was copied
    assert client.get_run(fork_id).forked_at_seq == client.history("nap")[-2]["seq"]


def test_fork_at_an_open_timer_rearms_it(client: Client, worker: Worker) -> None:
    client.start(naps, 3, id="nap2")
    assert client.result("nap2", timeout=20) == 4
    started = next(e for e in client.history("nap2") if e["type"] == "timer_started")
    fork_id = client.fork("nap2", at_seq=started["seq"])
    assert client.result(fork_id, timeout=20) == 4


def test_fork_rejects_bad_input(client: Client, worker: Worker) -> None:
    client.start(naps, 3, id="nap3")
    assert client.result("nap3", timeout=20) == 4
    with pytest.raises(continuum.RunNotFound):
        client.fork("nope")
    with pytest.raises(continuum.ConfigurationError, match="at_seq"):
        client.fork("nap3", at_seq=0)
    with pytest.raises(continuum.ForkError, match="pick a seq"):
        client.fork("nap3", at_seq=999)
    client.fork("nap3", id="taken")
    with pytest.raises(continuum.RunAlreadyExists):
        client.fork("nap3", id="taken")


@continuum.workflow
def kid(n: int) -> int:
    return continuum.execute(step1, n)


@continuum.workflow
def with_child(n: int) -> int:
    return continuum.child(kid, n, id="k") + continuum.execute(step1, 0)


def test_fork_refuses_a_cut_inside_an_open_child_and_accepts_one_after_it(
    client: Client,
) -> None:
    with Worker(client, workflows=[with_child, kid], poll_interval=0.5):
        client.start(with_child, 5, id="fam")
        assert client.result("fam", timeout=20) == 7
        history = client.history("fam")
        started = next(e for e in history if e["type"] == "child_started")
        done = next(e for e in history if e["type"] == "child_completed")
        with pytest.raises(continuum.ForkError, match=f"seq {started['seq']}"):
            client.fork("fam", at_seq=started["seq"])
        fork_id = client.fork("fam", at_seq=done["seq"])
        assert client.result(fork_id, timeout=20) == 7


def test_if_exists_restart_failed_also_restarts_a_cancelled_run(client: Client) -> None:
    client.start(naps, 1, id="c1")
    client.cancel("c1")
    with Worker(client, workflows=[naps], poll_interval=0.5):
        assert client.start(naps, 2, id="c1", if_exists="restart_failed") == "c1"
        assert client.result("c1", timeout=20) == 3
