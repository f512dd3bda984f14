"""The schedule firer: starts the runs of due schedule ticks (SPEC §14).

It sleeps until the timer wheel says a schedule is due (or it is poked), then fires
every due schedule it can lock in one transaction (``FOR UPDATE SKIP LOCKED``: with
many workers, one fires each schedule and the others skip it). It hands the next fire
time back to the wheel, so between ticks it costs nothing. When a due schedule was
locked by another firer it looks again shortly: if that firer dies mid-transaction,
the tick is still started by someone else.
"""

from __future__ import annotations

import logging

from continuum.journal.postgres import PostgresJournal
from continuum.journal.postgres import schedules as schedule_ops
from continuum.runtime.service import Service
from continuum.runtime.timers import TimerWheel

_log = logging.getLogger("continuum.runtime.schedules")

BLOCKED_RETRY_S = 0.25
IDLE_S = 3600.0


class ScheduleFirer(Service):
    """Fires due schedules for one worker."""

    name = "schedule-firer"

    def __init__(
        self,
        journal: PostgresJournal,
        wheel: TimerWheel,
        version_for: schedule_ops.VersionFor | None = None,
    ) -> None:
        super().__init__()
        self.journal = journal
        self.wheel = wheel
        self.version_for = version_for
        self.started = 0
        self.passes = 0

    def tick(self) -> float | None:
        self.passes += 1
        report = self.journal.transaction(lambda cur: schedule_ops.fire_due(cur, self.version_for))
        if report.started:
            self.started += len(report.started)
            _log.debug("started scheduled runs %s", report.started)
        if report.blocked:
            return BLOCKED_RETRY_S
        self.wheel.expect_schedule(report.next_in_s)
        return IDLE_S  # the wheel pokes us when the next schedule is due
