"""The run dispatcher: claims due runs and activates them on a pool of ``max_runs`` threads.

Claims go through the journal's ``claim_and_load_due_runs`` (``FOR UPDATE SKIP LOCKED``
on the runnable index, rotating each run's fencing token, and loading every claimed
run's activation input in the same transaction), so any number of workers share one
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

from continuum.db.retrying import is_transient, retry_transient
from continuum.engine.types import ActivationInput
from continuum.journal.fencing import Fenced
from continuum.journal.records import Lease
from continuum.runtime.contract import WorkerJournal
from continuum.runtime.crashpoints import crash_point
from continuum.runtime.driver import RunDriver
from continuum.runtime.lease import LeaseHeartbeater
from continuum.runtime.local import ActivationAborted
from continuum.runtime.service import Service

_log = logging.getLogger("continuum.runtime.dispatcher")

TRANSIENT_RETRY_AFTER = timedelta(milliseconds=200)
ERROR_RETRY_AFTER = timedelta(seconds=5)
_MAX_WANTED = 1024


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
        self._reserved = 0
        # Whether due runs may have been left behind for want of a slot; only then must a
        # finishing activation poke the loop (newly due runs come with a NOTIFY).
        self._saturated = False
        # Runs announced by id (a NOTIFY naming them), claimed one by one before the batch
        # claim so a signalled run needs no separate load transaction.
        self._wanted: dict[str, None] = {}
        self._generic = True  # poked without a run id since the last tick
        self._due_at = 0.0  # monotonic time of the next known back-off wake-up
        self.activations = 0
        self.transient_failures = 0

    @property
    def inflight(self) -> int:
        """Activations running right now."""
        with self._lock:
            return len(self._inflight) + self._reserved

    def reserve(self) -> bool:
        """Hold one activation slot for a run about to be handed over (see :meth:`adopt`)."""
        with self._lock:
            if self.stopping or len(self._inflight) + self._reserved >= self.max_runs:
                return False
            self._reserved += 1
            return True

    def unreserve(self) -> None:
        """Return a slot from :meth:`reserve` that was not used."""
        with self._lock:
            self._reserved -= 1
        if self._saturated:  # due runs may have been left behind for want of this slot
            self.poke()

    def adopt(self, lease: Lease, loaded: ActivationInput) -> None:
        """Activate a run leased (and loaded) elsewhere in this worker, in a reserved slot.

        The activity pool hands over the run whose task it just finished: the claim and
        the load rode in the finish transaction, so the run skips the dispatcher.
        """
        if not self._submit(lease, loaded, reserved=True):
            self._give_back(lease, timedelta(0))

    def wake(self, run_id: str) -> None:
        """``run_id`` became due (e.g. a signal): claim exactly it on the next tick."""
        with self._lock:
            if len(self._wanted) < _MAX_WANTED:
                self._wanted[run_id] = None
            else:
                self._generic = True
        super().poke()

    def poke(self) -> None:
        """Run the next tick now, with a batch claim of whatever is due."""
        self._generic = True
        super().poke()

    def _claim_wanted(self) -> tuple[int, bool]:
        with self._lock:
            ids = list(self._wanted)
            self._wanted.clear()
        if len(ids) > 1:
            return 0, False  # a burst: the batch claim below beats one claim per run
        claimed = 0
        for run_id in ids:
            got = self.journal.claim_and_load(run_id, self.owner)
            if got is not None:
                if self._submit(*got):
                    claimed += 1
                else:
                    self._give_back(got[0], timedelta(0))
        return claimed, bool(ids)

    def tick(self) -> float | None:
        if time.monotonic() >= self._next_recover:
            # Leases that lapsed without a reaped owner (a worker that lost the database
            # for a whole TTL): make those runs due again.
            self._next_recover = time.monotonic() + self.recover_s
            self.journal.recover_expired_runs()
        generic, self._generic = self._generic, False
        free = self.max_runs - self.inflight
        if free <= 0:
            self._saturated = True
            return None  # a finishing activation pokes us
        claimed, named = self._claim_wanted()
        free -= claimed
        until_due = self._due_at - time.monotonic()
        if named and not generic and not self._saturated and until_due > 0:
            # Woken by name only: nothing else was left due at the last batch claim, and
            # anything newly due announces itself (or is the known back-off).
            return min(self.interval_s, until_due)
        if free <= 0:
            self._saturated = True
            return None
        claimed_runs = self.journal.claim_and_load_due_runs(self.owner, free)
        self._saturated = len(claimed_runs) == free
        for k, (lease, loaded) in enumerate(claimed_runs):
            if not self._submit(lease, loaded):
                for rest, _ in claimed_runs[k:]:
                    self._give_back(rest, timedelta(0))
                break
        if len(claimed_runs) == free or self.next_due_in is None:
            return None  # a finishing activation pokes us
        # Back-offs (released runs) wake without a NOTIFY: sleep until the earliest.
        due_in = self.next_due_in()
        if due_in is None:
            self._due_at = time.monotonic() + self.interval_s
            return None
        delay = min(self.interval_s, max(due_in, 0.0) + 0.001)
        self._due_at = time.monotonic() + delay
        return delay

    def _submit(
        self, lease: Lease, loaded: ActivationInput | None = None, *, reserved: bool = False
    ) -> bool:
        held = self.heartbeater.track_run(lease)
        with self._lock:
            if reserved:
                self._reserved -= 1
            try:
                future = self._pool.submit(self._activate, lease, loaded)
            except RuntimeError:  # shut down: the caller hands the lease back
                self.heartbeater.untrack(held)
                return False
            self._inflight.add(future)

        def done(f: Future[None]) -> None:
            self.heartbeater.untrack(held)
            with self._lock:
                self._inflight.discard(f)
            if self._saturated:
                self.poke()

        future.add_done_callback(done)
        return True

    def _activate(self, lease: Lease, loaded: ActivationInput | None) -> None:
        crash_point("after_claim")
        try:
            self.driver.activate_lease(lease, loaded)
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
            # The heartbeater hands the untracked lease back on its next beat (an orphan).
            _log.warning("could not release run %s (%s); its lease will expire", lease.run_id, exc)

    def drain(self, timeout: float | None) -> bool:
        """Wait for in-flight activations; ``True`` if they all finished in time."""
        with self._lock:
            pending = set(self._inflight)
        _done, not_done = wait_futures(pending, timeout=timeout)
        return not not_done

    def on_stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
