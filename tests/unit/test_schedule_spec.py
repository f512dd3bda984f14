"""Schedule tick computation: cron in time zones (DST), intervals, catch-up windows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from continuum import ConfigurationError
from continuum.definitions.schedules import ScheduleSpec, check_overlap, tick_id

T0 = datetime(2026, 3, 28, 12, 0, 0, tzinfo=UTC)


def test_tick_ids_are_utc_seconds() -> None:
    paris = datetime(2026, 7, 1, 3, 0, 0, 999, tzinfo=UTC) + timedelta(hours=0)
    assert tick_id(paris) == "2026-07-01T03:00:00Z"


def test_every_ticks_are_aligned_on_the_anchor() -> None:
    spec = ScheduleSpec(every=timedelta(seconds=30))
    anchor = T0
    assert spec.next_after(T0, anchor) == T0 + timedelta(seconds=30)
    assert spec.next_after(T0 + timedelta(seconds=31.5), anchor) == T0 + timedelta(seconds=60)
    assert spec.latest_at_or_before(T0 + timedelta(seconds=59), anchor) == T0 + timedelta(
        seconds=30
    )
    assert spec.latest_at_or_before(T0 - timedelta(seconds=1), anchor) is None


def test_cron_follows_the_time_zone_across_dst() -> None:
    spec = ScheduleSpec(cron="0 3 * * *", timezone="Europe/Paris")
    # 28 March 2026: CET (UTC+1); 29 March: CEST (UTC+2) after the 02:00 jump.
    first = spec.next_after(datetime(2026, 3, 27, 12, tzinfo=UTC), T0)
    second = spec.next_after(first, T0)
    third = spec.next_after(second, T0)
    assert [tick_id(t) for t in (first, second, third)] == [
        "2026-03-28T02:00:00Z",
        "2026-03-29T01:00:00Z",
        "2026-03-30T01:00:00Z",
    ]


def test_a_cron_time_skipped_by_dst_fires_once_that_day() -> None:
    spec = ScheduleSpec(cron="30 2 * * *", timezone="Europe/Paris")
    start = datetime(2026, 3, 28, 12, tzinfo=UTC)
    ticks = [spec.next_after(start, T0)]
    ticks.append(spec.next_after(ticks[-1], T0))
    assert ticks[0].date() == datetime(2026, 3, 29).date()  # 02:30 does not exist: 03:00
    assert ticks[1] - ticks[0] > timedelta(hours=20)


def test_only_the_most_recent_missed_tick_without_catchup() -> None:
    spec = ScheduleSpec(every=timedelta(seconds=10))
    now = T0 + timedelta(seconds=95)
    assert spec.due_ticks(T0 + timedelta(seconds=10), now, T0, None) == [T0 + timedelta(seconds=90)]


def test_catchup_starts_every_tick_inside_the_window() -> None:
    spec = ScheduleSpec(every=timedelta(seconds=10))
    now = T0 + timedelta(seconds=95)
    ticks = spec.due_ticks(T0 + timedelta(seconds=10), now, T0, timedelta(seconds=30))
    assert ticks == [T0 + timedelta(seconds=s) for s in (70, 80, 90)]
    # Never before the first unfired tick, even with a wide window.
    ticks = spec.due_ticks(T0 + timedelta(seconds=80), now, T0, timedelta(hours=1))
    assert ticks == [T0 + timedelta(seconds=80), T0 + timedelta(seconds=90)]


def test_nothing_is_due_before_the_first_tick() -> None:
    spec = ScheduleSpec(cron="*/5 * * * *")
    assert spec.due_ticks(T0 + timedelta(minutes=5), T0 + timedelta(minutes=4), T0, None) == []


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({}, "exactly one"),
        ({"cron": "* * * * *", "every": timedelta(seconds=1)}, "exactly one"),
        ({"cron": "0 3 * *"}, "5-field"),
        ({"cron": "61 3 * * *"}, "not valid"),
        ({"cron": "0 3 * * *", "timezone": "Mars/Olympus"}, "time zone"),
        ({"every": timedelta(milliseconds=500)}, "whole seconds"),
        ({"every": timedelta(seconds=1.5)}, "whole seconds"),
        ({"every": 30}, "whole seconds"),
    ],
)
def test_bad_schedules_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        ScheduleSpec(**kwargs)  # type: ignore[arg-type]


def test_overlap_policy_is_checked() -> None:
    assert check_overlap("skip") == "skip"
    with pytest.raises(ConfigurationError, match="overlap"):
        check_overlap("queue")
