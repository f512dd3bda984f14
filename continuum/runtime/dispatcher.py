"""The run dispatcher: claims due runs and activates them on a pool of ``max_runs`` threads.

Claims go through the journal's ``claim_due_runs`` (``FOR UPDATE SKIP LOCKED`` on the
runnable index, rotating each run's fencing token), so any number of workers share one
database without coordinating. The dispatcher sleeps until it is poked — by a
``continuum_run_wake`` NOTIFY, the timer wheel, a finished activation — or until its
poll interval passes (the backstop for lost notifications).

Failure policy for one activation:

- a transient database error (connection lost, server restarting) never fails the run:
  the activation's transaction rolled back, the lease is handed back with a short
  back-off and the run resumes later, from its journal (crash-and-resume, seed v0.6.0);
- an unknown workflow version is :class:`RunDriver`'s business (release + back-off);
- a lost lease (``Fenced``) is discarded by the driver — the new owner carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from datetime import timedelta

from continuum.errors import Fenced
from continuum.journal.records import Lease
from continuum.runtime.contract import WorkerJournal
from continuum.runtime.driver import RunDriver
from continuum.runtime.lease import LeaseHeartbeater
from continuum.runtime.local import ActivationAborted
from continuum.runtime.retrying import is_transient, retry_transient
from continuum.runtime.service import Service

_log = logging.getLogger("continuum.runtime.dispatcher")

TRANSIENT_RETRY_AFTER = timedelta(milliseconds=200)
ERROR_RETRY_AFTER = timedelta(seconds=5)


class RunDispatcher(Service):
    """Claims due runs for one worker and runs their activations."""

    name = "run-dispatcher"

    def __init__(
        self,
        journal: WorkerJournal,
        driver: RunDriver,
        heartbeater: LeaseHeartbeater,
        owner: str,
        *,
        max_runs: int = 4,
        poll_interval_s: float = 2.0,
        recover_s: float = 5.0,
        next_due_in: Callable[[], float | None] | None = None,
    ) -> None:
        super().__init__()
        if max_runs < 1:
            raise ValueError("max_runs must be at least 1")
        self.journal = journal
        self.driver = driver
        self.heartbeater = heartbeater
        self.owner = owner
        self.max_runs = max_runs
        self.interval_s = poll_interval_s
        self.recover_s = recover_s
        self.next_due_in = next_due_in
        self._next_recover = 0.0
        self._pool = ThreadPoolExecutor(max_runs, thread_name_prefix="continuum-run")
        self._lock = threading.Lock()
        self._inflight: set[Future[None]] = set()
        self.activations = 0
        self.transient_failures = 0

    @property
    def inflight(self) -> int:
        """Activations running right now."""
        with self._lock:
            return len(self._inflight)

    def tick(self) -> float | None:
        if time.monotonic() >= self._next_recover:
            # Leases that lapsed without a reaped owner (a worker that lost the database
            # for a whole TTL): make those runs due again.
            self._next_recover = time.monotonic() + self.recover_s
            self.journal.recover_expired_runs()
        free = self.max_runs - self.inflight
        if free <= 0:
            return None  # a finishing activation pokes us
        leases = self.journal.claim_due_runs(self.owner, free)
        for lease in leases:
            self._submit(lease)
        if len(leases) == free or self.next_due_in is None:
            return None  # a finishing activation pokes us
        # Back-offs (released runs) wake without a NOTIFY: sleep until the earliest.
        due_in = self.next_due_in()
        if due_in is None:
            return None
        return min(self.interval_s, max(due_in, 0.0) + 0.001)

    def _submit(self, lease: Lease) -> None:
        held = self.heartbeater.track_run(lease)
        future = self._pool.submit(self._activate, lease)
        with self._lock:
            self._inflight.add(future)

        def done(f: Future[None]) -> None:
            self.heartbeater.untrack(held)
            with self._lock:
                self._inflight.discard(f)
            self.poke()

        future.add_done_callback(done)

    def _activate(self, lease: Lease) -> None:
        try:
            self.driver.activate_lease(lease)
            self.activations += 1
        except Fenced:
            _log.info("run %s: lease lost before the activation loaded; skipped", lease.run_id)
        except (ActivationAborted, Exception) as exc:
            transient = isinstance(exc, ActivationAborted) or is_transient(exc)
            if transient:
                self.transient_failures += 1
                _log.warning(
                    "activation of run %s dropped after a transient database error (%s); "
                    "it will resume from its journal",
                    lease.run_id,
                    exc,
                )
            else:
                _log.exception("activation of run %s crashed; backing the run off", lease.run_id)
            self._give_back(lease, TRANSIENT_RETRY_AFTER if transient else ERROR_RETRY_AFTER)

    def _give_back(self, lease: Lease, retry_after: timedelta) -> None:
        try:
            retry_transient(
                lambda: self.journal.release_run(lease, retry_after),
                within_s=10.0,
                stop=lambda: self.stopping,
            )
        except Exception as exc:
            # The lease lapses on its own within one TTL (or at once if we die).
            _log.warning("could not release run %s (%s); its lease will expire", lease.run_id, exc)

    def drain(self, timeout: float | None) -> bool:
        """Wait for in-flight activations; ``True`` if they all finished in time."""
        with self._lock:
            pending = set(self._inflight)
        _done, not_done = wait_futures(pending, timeout=timeout)
        return not not_done

    def on_stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
