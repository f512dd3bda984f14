"""When a schedule fires: cron expressions (with time zones and DST) and fixed intervals.

Pure computation, shared by the Postgres firer, the client and the in-memory kit.
Cron parsing and DST handling come from ``cronsim``; time zones from ``zoneinfo``.
Every tick is a whole second in UTC and names its run: ``f"{schedule_id}@{tick_id(t)}"``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

from continuum.errors import ConfigurationError

OVERLAP_POLICIES = ("skip", "allow")
MAX_CATCHUP_TICKS = 1000
"""At most this many missed ticks are started by one catch-up (the most recent ones)."""

_ONE_SECOND = timedelta(seconds=1)


def tick_id(tick: datetime) -> str:
    """The tick as it appears in run ids: UTC, ``YYYY-MM-DDTHH:MM:SSZ``."""
    return tick.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _second(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(microsecond=0)


class ScheduleSpec:
    """A validated cron expression (in ``timezone``) or interval (``every``)."""

    __slots__ = ("_zone", "cron", "every", "timezone")

    def __init__(
        self,
        *,
        cron: str | None = None,
        every: timedelta | None = None,
        timezone: str = "UTC",
        operation: str = "schedule",
    ) -> None:
        if (cron is None) == (every is None):
            raise ConfigurationError(
                f"Client.{operation} needs exactly one of cron= (a 5-field cron expression) "
                "or every= (a timedelta)"
            )
        try:
            self._zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ConfigurationError(
                f"Client.{operation}: unknown time zone {timezone!r}; use an IANA name such "
                "as 'Europe/Paris' or 'UTC'"
            ) from None
        if cron is not None:
            if not isinstance(cron, str) or len(cron.split()) != 5:
                raise ConfigurationError(
                    f"Client.{operation}: cron={cron!r} is not a 5-field cron expression "
                    "(minute hour day-of-month month day-of-week), e.g. '0 3 * * *'"
                )
            try:
                CronSim(cron, datetime.now(self._zone))
            except CronSimError as exc:
                raise ConfigurationError(
                    f"Client.{operation}: cron={cron!r} is not valid ({exc})"
                ) from None
        if every is not None and (
            not isinstance(every, timedelta) or every < _ONE_SECOND or every.microseconds
        ):
            raise ConfigurationError(
                f"Client.{operation}: every={every!r} must be a timedelta of whole seconds, "
                "at least seconds(1)"
            )
        self.cron = cron
        self.every = every
        self.timezone = timezone

    def next_after(self, t: datetime, anchor: datetime) -> datetime:
        """The first tick strictly after ``t`` (UTC)."""
        if self.every is not None:
            step = int(self.every.total_seconds())
            k = int((_second(t) - _second(anchor)).total_seconds()) // step + 1
            return _second(anchor) + timedelta(seconds=k * step)
        assert self.cron is not None
        return _second(next(CronSim(self.cron, _second(t).astimezone(self._zone))))

    def latest_at_or_before(self, t: datetime, anchor: datetime) -> datetime | None:
        """The last tick at or before ``t`` (UTC), ``None`` if there is none since ``anchor``."""
        if self.every is not None:
            step = int(self.every.total_seconds())
            k = int((_second(t) - _second(anchor)).total_seconds()) // step
            return None if k < 0 else _second(anchor) + timedelta(seconds=k * step)
        assert self.cron is not None
        start = (_second(t) + _ONE_SECOND).astimezone(self._zone)
        return _second(next(CronSim(self.cron, start, reverse=True)))

    def due_ticks(
        self, first: datetime, now: datetime, anchor: datetime, catchup: timedelta | None
    ) -> list[datetime]:
        """The ticks to start at ``now`` when ``first`` is the earliest unfired tick.

        Without ``catchup`` only the most recent missed tick; with it, every tick inside
        ``[now - catchup, now]`` (at most :data:`MAX_CATCHUP_TICKS`, the most recent),
        and always at least the most recent one.
        """
        latest = self.latest_at_or_before(now, anchor)
        if latest is None or latest < _second(first):
            return []
        if catchup is None:
            return [latest]
        ticks = [latest]
        floor = max(_second(first), _second(now - catchup))
        while len(ticks) < MAX_CATCHUP_TICKS:
            before = self.latest_at_or_before(ticks[-1] - _ONE_SECOND, anchor)
            if before is None or before < floor:
                break
            ticks.append(before)
        return ticks[::-1]


def check_overlap(overlap: str, operation: str = "schedule") -> str:
    """``overlap`` if it is a known policy, else a :class:`ConfigurationError`."""
    if overlap not in OVERLAP_POLICIES:
        raise ConfigurationError(
            f"Client.{operation}: overlap={overlap!r} is not a policy; use 'skip' (no new run "
            "while the previous one is open) or 'allow'"
        )
    return overlap
