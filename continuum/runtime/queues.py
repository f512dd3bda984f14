"""The queue admitter: lets queued runs start as their queue's limits allow (SPEC §15).

Admission itself happens in SQL under the queue's row lock (see
:mod:`continuum.journal.postgres.queues`), so the limits hold across every worker; this
service only decides *when* to try: when a ``continuum_queue_ready`` NOTIFY names a
queue (a run was queued, or a run of the queue finished), when a rate-limit window
opens, and on the router's backstop re-scan.
"""

from __future__ import annotations

import threading
import time
from functools import partial

from continuum.journal.postgres import PostgresJournal
from continuum.journal.postgres import queues as queue_ops
from continuum.journal.postgres.statements import Cursor
from continuum.runtime.service import Service

IDLE_S = 3600.0


def _admit(cur: Cursor, *, queue: str) -> queue_ops.Admission:
    return queue_ops.admit(cur, queue, backlog=True)


class QueueAdmitter(Service):
    """Admits queued runs for one worker."""

    name = "queue-admitter"

    def __init__(self, journal: PostgresJournal) -> None:
        super().__init__()
        self.journal = journal
        self._lock = threading.Lock()
        self._wanted: set[str] = set()
        self._scan = True
        self._timed: dict[str, float] = {}  # queue -> monotonic time its rate window opens
        self.admitted = 0

    def ready(self, queue: str) -> None:
        """``queue`` may have room (NOTIFY payload)."""
        with self._lock:
            self._wanted.add(queue)
        self.poke()

    def rescan(self) -> None:
        """Look at every queue with waiting runs (backstop for lost notifications)."""
        self._scan = True
        self.poke()

    def tick(self) -> float | None:
        now = time.monotonic()
        with self._lock:
            names, self._wanted = self._wanted, set()
        names |= {q for q, at in self._timed.items() if at <= now}
        if self._scan:
            self._scan = False
            names |= set(self.journal.transaction(queue_ops.waiting_queues))
        for name in sorted(names):
            self._timed.pop(name, None)
            got = self.journal.transaction(partial(_admit, queue=name))
            self.admitted += len(got.admitted)
            if got.queued and got.rate_wait_s is not None and got.rate_wait_s > 0:
                self._timed[name] = time.monotonic() + max(got.rate_wait_s, 0.0) + 0.005
        if not self._timed:
            return IDLE_S
        return max(min(self._timed.values()) - time.monotonic(), 0.0)
