"""Schedules on real Postgres (SPEC §14): firing, ids, overlap, catch-up, pause, trigger."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta

import psycopg
import pytest

import continuum
from continuum import seconds
from continuum.client import Client
from continuum.runtime.worker import Worker

GATE = {"open": True}


@continuum.activity
def slow_ping(n: int) -> int:
    while not GATE["open"]:
        time.sleep(0.02)
    return n


@continuum.workflow
def ping(n: int) -> int:
    return n + 1


@continuum.workflow
def held(n: int) -> int:
    return continuum.execute(slow_ping, n)


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    GATE["open"] = True
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _worker(client: Client) -> Worker:
    return Worker(client, workflows=[ping, held], poll_interval=0.5)


def _runs_of(client: Client, schedule_id: str) -> list[str]:
    page = client.query(namespace=None, limit=1000)
    return sorted(r.id for r in page.runs if r.id.startswith(f"{schedule_id}@"))


def _wait_for(check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _backdate(dsn: str, schedule_id: str, by: timedelta) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE continuum_schedules SET anchor = anchor - %s, next_fire_at = next_fire_at - %s"
            " WHERE id = %s",
            (by, by, schedule_id),
        )


def test_every_ticks_start_one_run_each_named_after_the_tick(client: Client) -> None:
    info = client.schedule("beat", ping, 1, every=seconds(1))
    assert info.every == timedelta(seconds=1) and info.next_fire_at is not None
    with _worker(client), _worker(client):
        _wait_for(lambda: len(_runs_of(client, "beat")) >= 3)
    ids = _runs_of(client, "beat")
    assert len(ids) == len(set(ids))
    for run_id in ids:
        tick = run_id.split("@", 1)[1]
        assert len(tick) == 20 and tick.endswith("Z") and tick[10] == "T"
    listed = {s.id: s for s in client.schedules()}
    assert listed["beat"].last_run_id in ids
    assert listed["beat"].workflow == ping.name


def test_pause_resume_trigger_and_unschedule(client: Client) -> None:
    client.schedule("daily", ping, 5, cron="0 3 * * *", timezone="Europe/Paris")
    paused = client.pause_schedule("daily")
    assert paused.paused and paused.next_fire_at is None
    run_id = client.trigger_schedule("daily")
    assert run_id.startswith("daily@")
    with _worker(client):
        assert client.result(run_id, timeout=20) == 6
    resumed = client.resume_schedule("daily")
    assert not resumed.paused and resumed.next_fire_at is not None
    assert resumed.next_fire_at.hour in (1, 2)  # 03:00 in Paris is 01:00 or 02:00 UTC
    client.unschedule("daily")
    assert [s.id for s in client.schedules()] == []
    for call in (client.pause_schedule, client.resume_schedule, client.trigger_schedule):
        with pytest.raises(continuum.ScheduleNotFound, match="daily"):
            call("daily")
    with pytest.raises(continuum.ScheduleNotFound, match="delete"):
        client.unschedule("daily")


def test_schedule_is_an_upsert_by_id(client: Client) -> None:
    client.schedule("s", ping, 1, cron="0 3 * * *")
    client.schedule("s", ping, 2, every=seconds(60), overlap="allow")
    [only] = client.schedules()
    assert only.cron is None and only.every == timedelta(seconds=60) and only.overlap == "allow"


def test_after_downtime_only_the_latest_missed_tick_fires(client: Client) -> None:
    client.schedule("late", ping, 1, every=seconds(10), overlap="allow")
    _backdate(client.dsn, "late", timedelta(seconds=65))
    with _worker(client):
        _wait_for(lambda: len(_runs_of(client, "late")) >= 1)
        time.sleep(0.5)
    assert len(_runs_of(client, "late")) == 1


def test_catchup_fires_every_tick_inside_the_window(client: Client) -> None:
    client.schedule(
        "backfill", ping, 1, every=seconds(10), overlap="allow", catchup=timedelta(seconds=35)
    )
    _backdate(client.dsn, "backfill", timedelta(seconds=65))
    with _worker(client):
        _wait_for(lambda: len(_runs_of(client, "backfill")) >= 3)
        time.sleep(0.5)
    assert len(_runs_of(client, "backfill")) in (3, 4)  # ticks within 35 s of now


def test_overlap_skip_starts_nothing_while_the_previous_run_is_open(client: Client) -> None:
    GATE["open"] = False
    client.schedule("busy", held, 1, every=seconds(1), overlap="skip")
    with _worker(client):
        _wait_for(lambda: len(_runs_of(client, "busy")) >= 1)
        time.sleep(2.5)
        assert len(_runs_of(client, "busy")) == 1
        GATE["open"] = True
        _wait_for(lambda: len(_runs_of(client, "busy")) >= 2)


def test_an_idle_schedule_costs_no_query_per_tick(client: Client) -> None:
    client.schedule("rare", ping, 1, cron="0 0 1 1 *")
    with _worker(client) as worker:
        time.sleep(2.0)
        assert worker.schedules.started == 0
        assert worker.schedules.passes <= 2  # the start-up pass, nothing after


def test_bad_schedules_are_refused_and_nothing_is_stored(client: Client) -> None:
    with pytest.raises(continuum.ConfigurationError, match="cron"):
        client.schedule("bad", ping, 1, cron="every day")
    with pytest.raises(continuum.ConfigurationError, match="overlap"):
        client.schedule("bad", ping, 1, every=seconds(5), overlap="never")
    with pytest.raises(continuum.ConfigurationError, match="schedule id"):
        client.schedule("a@b", ping, 1, every=seconds(5))
    with pytest.raises(continuum.ConfigurationError, match="catchup"):
        client.schedule("bad", ping, 1, every=seconds(5), catchup=timedelta(0))
    with pytest.raises(continuum.PayloadError):
        client.schedule("bad", ping, "not an int", every=seconds(5))
    with pytest.raises(continuum.PayloadError, match="schedule id"):
        client.schedule("nul\x00", ping, 1, every=seconds(5))
    with pytest.raises(continuum.PayloadError, match="schedule id"):
        client.pause_schedule("nul\x00")
    assert client.schedules() == []


def test_a_schedule_can_start_its_runs_on_a_queue(client: Client) -> None:
    client.configure_queue("sched-q", concurrency=1)
    client.start(ping, 0, queue="sched-q")  # holds the only slot (no worker runs it)
    client.schedule("queued", ping, 1, cron="0 3 * * *", queue="sched-q", priority=4)
    run_id = client.trigger_schedule("queued")
    info = client.get_run(run_id)
    assert (info.state, info.queue, info.priority) == (continuum.RunState.QUEUED, "sched-q", 4)
