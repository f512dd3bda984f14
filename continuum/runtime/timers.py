"""The timer wheel: a near-term in-memory cache of timer fire times.

Timers live in ``continuum_timers`` (armed in the same transaction as the activation
that slept); a run with a pending timer carries ``next_wakeup_at``, so the dispatcher
can always find it by polling. The wheel makes firing *prompt* without polling hard:
it caches the unfired timers due within ``horizon_s`` (60 s), refreshes that cache
every ``refresh_s`` (30 s) and whenever ``continuum_timer_armed`` is notified, sleeps
until the earliest fire time and then pokes the run dispatcher. Idle timers therefore
cost one query per refresh, not one per timer per second (seed v0.2).

Fire times are read as "seconds from the database's now()" and converted to this
process's monotonic clock, so app/DB wall-clock skew cannot make a timer early or late.

Schedules (SPEC §14) wake through the wheel too: each refresh also reads the earliest
unpaused schedule due within the horizon, and the schedule firer reports the next fire
time it sees after each pass (:meth:`TimerWheel.expect_schedule`), so an idle schedule
costs no query per tick; when one is due the wheel calls ``on_schedule_due``.
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable

from continuum.instance import Instance
from continuum.runtime.queries import query
from continuum.runtime.service import Service

_log = logging.getLogger("continuum.runtime.timers")

HORIZON_S = 60.0
REFRESH_S = 30.0
CACHE_LIMIT = 10_000
# Wake a hair after the fire time so the dispatcher's `next_wakeup_at <= now()` holds.
_SLACK_S = 0.002


class TimerWheel(Service):
    """Caches near-term timers and pokes ``on_due`` when one is due."""

    name = "timer-wheel"

    def __init__(
        self,
        instance: Instance,
        on_due: Callable[[], None],
        *,
        horizon_s: float = HORIZON_S,
        refresh_s: float = REFRESH_S,
        on_schedule_due: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.instance = instance
        self.on_due = on_due
        self.on_schedule_due = on_schedule_due
        self._schedule_at: float | None = None
        self.horizon_s = horizon_s
        self.refresh_s = refresh_s
        self._heap: list[tuple[float, str, int]] = []
        self._lock = threading.Lock()
        self._refresh_wanted = threading.Event()
        self._refresh_wanted.set()
        self._next_refresh = 0.0
        self.queries = 0
        self.fired = 0

    def armed(self, _payload: str = "") -> None:
        """A timer was armed somewhere: refresh the cache before the next sleep."""
        self._refresh_wanted.set()
        self.poke()

    def expect_schedule(self, due_in_s: float | None) -> None:
        """A schedule is due in ``due_in_s`` seconds (as the database clock sees it)."""
        if due_in_s is None or due_in_s > self.horizon_s:
            return
        at = time.monotonic() + max(due_in_s, 0.0) + _SLACK_S
        with self._lock:
            if self._schedule_at is None or at < self._schedule_at:
                self._schedule_at = at
        self.poke()

    def cached(self) -> int:
        """How many timers are in the cache."""
        with self._lock:
            return len(self._heap)

    def refresh(self) -> None:
        """Reload the near-term cache from Postgres (one query)."""
        self._refresh_wanted.clear()
        with self.instance.connection() as conn:
            rows = conn.execute(
                query("near_timers"), {"horizon_s": self.horizon_s, "limit": CACHE_LIMIT}
            ).fetchall()
            near = None
            if self.on_schedule_due is not None:
                row = conn.execute(
                    query("near_schedules"), {"horizon_s": self.horizon_s}
                ).fetchone()
                near = None if row is None or row[0] is None else float(row[0])
        base = time.monotonic()
        heap = [
            (base + float(due_in) + _SLACK_S, str(run_id), int(seq)) for run_id, seq, due_in in rows
        ]
        heapq.heapify(heap)
        with self._lock:
            self._heap = heap
            self._schedule_at = None if near is None else base + max(near, 0.0) + _SLACK_S
        self.queries += 1
        self._next_refresh = base + self.refresh_s

    def tick(self) -> float | None:
        now = time.monotonic()
        if self._refresh_wanted.is_set() or now >= self._next_refresh:
            self.refresh()
            now = time.monotonic()
        due = 0
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                heapq.heappop(self._heap)
                due += 1
            earliest = self._heap[0][0] if self._heap else None
            schedule_due = self._schedule_at is not None and self._schedule_at <= now
            if schedule_due:
                self._schedule_at = None
            elif self._schedule_at is not None:
                at = self._schedule_at
                earliest = at if earliest is None else min(earliest, at)
        if due:
            self.fired += due
            self.on_due()
        if schedule_due and self.on_schedule_due is not None:
            self.on_schedule_due()
        until_refresh = self._next_refresh - now
        if earliest is None:
            return max(until_refresh, 0.0)
        return max(min(earliest - now, until_refresh), 0.0)
