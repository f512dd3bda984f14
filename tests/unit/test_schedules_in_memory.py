"""Schedules in the in-memory kit, on the virtual clock (SPEC §10, §14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import continuum
from continuum import hours, minutes, seconds
from continuum.testing import WorkflowEnvironment

START = datetime(2026, 3, 27, 12, 0, 0, tzinfo=UTC)


@continuum.workflow
def beat(n: int) -> int:
    return n


@continuum.workflow
def slow_beat(n: int) -> int:
    continuum.sleep(minutes(90))
    return n


def _runs(env: WorkflowEnvironment, prefix: str) -> list[str]:
    return sorted(r.id for r in env.journal.runs() if r.id.startswith(prefix))


def test_every_fires_once_per_tick_on_the_virtual_clock() -> None:
    env = WorkflowEnvironment(start_time=START, workflows=[beat])
    env.schedule("hb", beat, 3, every=seconds(10))
    env.advance(seconds(35))
    assert _runs(env, "hb@") == [
        "hb@2026-03-27T12:00:10Z",
        "hb@2026-03-27T12:00:20Z",
        "hb@2026-03-27T12:00:30Z",
    ]
    assert env.result("hb@2026-03-27T12:00:30Z") == 3


def test_cron_in_a_time_zone_across_the_dst_change() -> None:
    env = WorkflowEnvironment(start_time=START, workflows=[beat])
    env.schedule("night", beat, 1, cron="0 3 * * *", timezone="Europe/Paris")
    env.advance(hours(72))
    assert _runs(env, "night@") == [
        "night@2026-03-28T02:00:00Z",  # 03:00 CET
        "night@2026-03-29T01:00:00Z",  # 03:00 CEST, after the clocks moved
        "night@2026-03-30T01:00:00Z",
    ]


def test_overlap_skip_waits_for_the_open_run() -> None:
    env = WorkflowEnvironment(start_time=START, workflows=[slow_beat])
    env.schedule("s", slow_beat, 1, cron="0 * * * *", overlap="skip")
    env.advance(hours(3) + minutes(30))
    # 13:00 starts (runs until 14:30), 14:00 is skipped, 15:00 starts.
    assert _runs(env, "s@") == ["s@2026-03-27T13:00:00Z", "s@2026-03-27T15:00:00Z"]


def test_overlap_allow_starts_every_tick() -> None:
    env = WorkflowEnvironment(start_time=START, workflows=[slow_beat])
    env.schedule("a", slow_beat, 1, cron="0 * * * *", overlap="allow")
    env.advance(hours(3) + minutes(30))
    assert len(_runs(env, "a@")) == 3


def test_pause_resume_trigger_unschedule() -> None:
    env = WorkflowEnvironment(start_time=START, workflows=[beat])
    env.schedule("p", beat, 2, every=minutes(1))
    env.pause_schedule("p")
    env.advance(minutes(5))
    assert _runs(env, "p@") == []
    run_id = env.trigger_schedule("p")
    assert env.result(run_id) == 2
    env.resume_schedule("p")
    env.advance(minutes(2))
    assert len(_runs(env, "p@")) == 3
    env.unschedule("p")
    assert env.schedules() == []
    with pytest.raises(continuum.ScheduleNotFound):
        env.pause_schedule("p")


def test_bad_schedule_is_refused() -> None:
    env = WorkflowEnvironment(start_time=START, workflows=[beat])
    with pytest.raises(continuum.ConfigurationError):
        env.schedule("x", beat, 1, cron="nope")
    with pytest.raises(continuum.ConfigurationError):
        env.schedule("x", beat, 1, every=timedelta(seconds=5), overlap="sometimes")
    assert env.schedules() == []
