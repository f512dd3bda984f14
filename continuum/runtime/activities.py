"""The activity dispatcher and its worker pool.

Claims due tasks (``claim_tasks``: ``FOR UPDATE SKIP LOCKED``, the attempt counter moves
at claim time so a crashed attempt counts), and for each one:

1. reuses a committed result for its idempotency key if there is one
   (``activity.idempotency_hit``) — the body does not run again;
2. runs one attempt with the per-attempt timeout (a synchronous body is abandoned at
   the deadline and reported as a timeout), heartbeating the task lease meanwhile;
3. records the outcome with ``finish_task`` — fenced by task token *and* attempt, so a
   zombie attempt cannot overwrite a live re-claim (seed v0.6.1). A fenced finish is
   discarded cleanly (``activity.fenced``); it never crashes the worker (seed v0.6.0).
   Successful attempts finishing together share one transaction (a group finish, see
   :mod:`continuum.runtime.group_commit`).

Periodically it sweeps tasks whose lease expired back to pending (consuming the
attempt) or to ``attempts_exhausted`` (``activity_dispatcher.requeued``), so a dead
worker's tasks never strand their runs. Leases that only their activity renews
(``heartbeat_timeout``) are watched more closely: every second the dispatcher asks
when the next one runs out and sweeps right then, so a silent attempt — on any worker,
even a frozen one — is retried within about a second of its heartbeat timeout.

Each attempt runs on a daemon thread under an :class:`~continuum.runtime.attempt.AttemptControl`
(activity context, coalesced heartbeats, cancellation). An attempt that ignores
cancellation is abandoned after a grace period, and :meth:`ActivityDispatcher.shutdown`
bounds a worker's drain: cancel, then abandon and say what was abandoned.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from typing import TYPE_CHECKING, Any, Protocol

from continuum import telemetry
from continuum.db.retrying import retry_transient
from continuum.definitions.activity import Activity
from continuum.engine.types import ActivationInput
from continuum.journal.records import Lease, TaskFinish, TaskLease
from continuum.runtime.attempt import AttemptControl, run_leased
from continuum.runtime.contract import WorkerJournal
from continuum.runtime.crashpoints import crash_point
from continuum.runtime.execution import AttemptResult
from continuum.runtime.executor import ExternalExecutor
from continuum.runtime.group_commit import GroupCommitter
from continuum.runtime.lease import LeaseHeartbeater
from continuum.runtime.local import ActivationAborted
from continuum.runtime.service import Service

if TYPE_CHECKING:
    from continuum.runtime.fused import FusedSteps

_log = logging.getLogger("continuum.runtime.activities")

SWEEP_S = 5.0
WATCH_S = 1.0
"""How often the dispatcher asks when the next heartbeat-timeout lease runs out."""
CANCEL_GRACE_S = 5.0
"""How long a cancelled attempt may run on before the worker lets go of it."""

Finished = tuple[TaskFinish, Lease | None, ActivationInput | None]
"""A recorded outcome: the finish, and the run leased to us (with its input) if any."""


class RunHandoff(Protocol):
    """Where a finished task's run goes when the finish transaction leased it to us."""

    def reserve(self) -> bool:
        """Hold an activation slot; ``False`` when none is free."""
        ...

    def unreserve(self) -> None:
        """Return an unused slot."""
        ...

    def adopt(self, lease: Lease, loaded: ActivationInput) -> None:
        """Activate the leased, loaded run in the reserved slot."""
        ...


class ActivityDispatcher(Service):
    """Claims activity tasks and executes them on ``max_activities`` threads."""

    name = "activity-dispatcher"

    def __init__(
        self,
        journal: WorkerJournal,
        heartbeater: LeaseHeartbeater,
        owner: str,
        activity_for: Callable[[str], Activity[..., Any]],
        *,
        instance: str = "default",
        max_activities: int = 8,
        poll_interval_s: float = 2.0,
        sweep_s: float = SWEEP_S,
        finish_retry_s: float = 30.0,
        next_due_in: Callable[[], float | None] | None = None,
        runs: RunHandoff | None = None,
        watch_s: float = WATCH_S,
        cancel_grace_s: float = CANCEL_GRACE_S,
        executor: ExternalExecutor | None = None,
    ) -> None:
        super().__init__()
        if max_activities < 1:
            raise ValueError("max_activities must be at least 1")
        self.journal = journal
        self.heartbeater = heartbeater
        self.owner = owner
        self.activity_for = activity_for
        self.instance = instance
        self.max_activities = max_activities
        self.interval_s = poll_interval_s
        self.sweep_s = sweep_s
        self.finish_retry_s = finish_retry_s
        self.next_due_in = next_due_in
        self.runs = runs
        self._reserved = 0
        # Whether the last claim may have left due tasks behind for want of a free slot;
        # only then must a finishing attempt poke the loop (new tasks come with a NOTIFY).
        self._saturated = False
        self._retry_wanted = False
        self._pool = ThreadPoolExecutor(max_activities, thread_name_prefix="continuum-activity")
        self._lock = threading.Lock()
        self._inflight: set[Future[None]] = set()
        self._next_sweep = 0.0
        self._sweep_wanted = threading.Event()
        self.watch_s = watch_s
        self._next_watch = 0.0
        self.cancel_grace_s = cancel_grace_s
        self._running: dict[tuple[int, int], AttemptControl] = {}
        self.abandoned: list[dict[str, Any]] = []
        # With an external executor, claimed attempts are handed off, not run here.
        self.executor = executor
        self.executed = 0
        # Sticky workers: a parked run's next activation rides in its task's finish.
        self.fused: FusedSteps | None = None
        # Successful attempts finishing together are recorded by one transaction.
        self.finisher: GroupCommitter[tuple[TaskLease, Any, bool], Finished] = GroupCommitter(
            lambda items: journal.finish_tasks(items, owner=owner), name="group finish"
        )

    @property
    def inflight(self) -> int:
        """Attempts running right now."""
        with self._lock:
            return len(self._inflight) + self._reserved

    def reserve(self, n: int) -> int:
        """Hold up to ``n`` free slots for tasks leased at commit; returns how many."""
        with self._lock:
            if self.stopping or self.executor is not None:
                return 0
            free = self.max_activities - len(self._inflight) - self._reserved
            k = max(0, min(n, free))
            self._reserved += k
            return k

    def unreserve(self, n: int) -> None:
        """Return ``n`` slots from :meth:`reserve` that were not used."""
        if n > 0:
            with self._lock:
                self._reserved -= n
            self.poke()

    def adopt(self, leases: list[TaskLease], reserved: int) -> None:
        """Run task leases taken at commit time in ``reserved`` slots (see :meth:`reserve`)."""
        rejected = [lease for lease in leases if not self._submit(lease, reserved=True)]
        self.unreserve(reserved - len(leases))
        if rejected:
            try:
                retry_transient(lambda: self.journal.unclaim_tasks(rejected), within_s=5.0)
            except Exception as exc:
                # The leases lapse and the sweep requeues them (counting the attempt).
                _log.warning("could not hand back %d task lease(s): %s", len(rejected), exc)

    def task_cancelled(self, task_id: str) -> None:
        """A cancel discarded this task (NOTIFY): cancel its attempt if it runs here."""
        with self._lock:
            running = [c for (tid, _), c in self._running.items() if str(tid) == task_id]
        for control in running:
            control.cancel("its run was cancelled")

    def sweep_soon(self) -> None:
        """Requeue expired task leases on the next tick (e.g. after reaping a dead worker)."""
        self._sweep_wanted.set()
        self.poke()

    def sweep(self) -> int:
        """Requeue (or exhaust) tasks whose lease expired; returns how many moved."""
        self._sweep_wanted.clear()
        self._next_sweep = time.monotonic() + self.sweep_s
        moved = self.journal.requeue_expired_tasks()
        self._retry_wanted = self._retry_wanted or moved > 0
        if moved:
            telemetry.emit("activity_dispatcher.requeued", {"count": moved}, instance=self.instance)
        return moved

    def watch(self) -> None:
        """Schedule the next sweep for when the next heartbeat-timeout lease runs out."""
        now = time.monotonic()
        self._next_watch = now + self.watch_s
        due_in = self.journal.next_watched_expiry_in()
        if due_in is not None:
            self._next_sweep = min(self._next_sweep, now + max(due_in, 0.0) + 0.01)

    def tick(self) -> float | None:
        if time.monotonic() >= self._next_watch:
            self.watch()
        if self._sweep_wanted.is_set() or time.monotonic() >= self._next_sweep:
            self.sweep()
        now = time.monotonic()
        delay = min(
            self.interval_s, max(self._next_sweep - now, 0.0), max(self._next_watch - now, 0.0)
        )
        if self.executor is not None:
            return self._hand_off(delay)
        free = self.max_activities - self.inflight
        if free <= 0:
            return delay
        claimed = self.journal.claim_tasks(self.owner, free)
        self._saturated = len(claimed) == free
        rejected = [lease for lease in claimed if not self._submit(lease)]
        if rejected:
            self.journal.unclaim_tasks(rejected)
        if (not claimed or self._retry_wanted) and self.next_due_in is not None:
            self._retry_wanted = False
            # Retries and requeued tasks become due later without a NOTIFY: sleep until
            # the earliest one instead of a whole poll interval.
            due_in = self.next_due_in()
            if due_in is not None:
                delay = min(delay, max(due_in, 0.0) + 0.001)
        return delay

    def _hand_off(self, delay: float) -> float:
        """External executor: lease up to ``max_activities`` due tasks and queue them there."""
        assert self.executor is not None
        claimed = self.journal.claim_tasks(self.owner, self.max_activities)
        if claimed:
            rejected = self.executor.hand_off(claimed)
            if rejected:
                self.journal.unclaim_tasks(rejected)
            if len(claimed) == self.max_activities:
                return 0.0  # more may be due: claim the next batch at once
        elif self.next_due_in is not None:
            due_in = self.next_due_in()
            if due_in is not None:
                delay = min(delay, max(due_in, 0.0) + 0.001)
        return delay

    def _submit(self, lease: TaskLease, *, reserved: bool = False) -> bool:
        with self._lock:
            if reserved:
                self._reserved -= 1
            if self.stopping:
                return False
            try:
                future = self._pool.submit(self._execute, lease)
            except RuntimeError:  # shut down
                return False
            self._inflight.add(future)

        def done(f: Future[None]) -> None:
            with self._lock:
                self._inflight.discard(f)
            if self._saturated:
                self.poke()

        future.add_done_callback(done)
        return True

    def _emit(self, event: str, meta: dict[str, Any]) -> None:
        telemetry.emit(event, meta, instance=self.instance)

    def _execute(self, lease: TaskLease) -> None:
        meta: dict[str, Any] = {
            "run_id": lease.run_id,
            "activity": lease.activity,
            "attempt": lease.attempt,
            "task_id": lease.id,
            "executor": "builtin",
            "trace_context": lease.trace_context,
        }
        kind = "compensation" if lease.kind == "compensation" else "activity"
        control = AttemptControl(self.journal, lease, cancel_grace_s=self.cancel_grace_s)
        key = (lease.id, lease.attempt)
        with self._lock:
            self._running[key] = control
        # A heartbeat-timeout lease is renewed only by the activity's own heartbeats.
        held = (
            self.heartbeater.track_task(lease, on_lost=control.lease_lost)
            if lease.heartbeat_timeout_ms is None
            else None
        )
        try:
            out = run_leased(
                self.journal,
                control,
                self.activity_for,
                self._emit,
                meta,
                retry_s=self.finish_retry_s,
            )
            if out is None:
                self._abandoned(control)
                return
            crash_point("after_side_effect")
            finish = self._record(lease, out, control)
            if finish is None:
                return
        except Exception:
            # The lease lapses and the sweep requeues the task (consuming the attempt).
            _log.exception("activity task %s: could not record its outcome", lease.id)
            return
        finally:
            if held is not None:
                self.heartbeater.untrack(held)
            with self._lock:
                self._running.pop(key, None)
        self.executed += 1
        if finish.status == "fenced":
            self._emit("activity.fenced", meta)
        elif finish.status == "retry":
            # Due later, without a NOTIFY: have the loop look up when.
            self._retry_wanted = True
            self.poke()
            self._emit("activity.retry", {**meta, "error": (out.error or {}).get("message")})
        elif finish.status == "deferred":
            self._emit(f"{kind}.deferred", meta)
        elif finish.status == "completed":
            self._emit(f"{kind}.completed", meta)
        else:
            self._emit(f"{kind}.failed", {**meta, "error": (out.error or {}).get("message")})

    def _record(
        self, lease: TaskLease, out: AttemptResult, control: AttemptControl
    ) -> TaskFinish | None:
        """Record the outcome; ``None`` when there is nothing to record (cancelled)."""
        if control.stopped and not out.ok:
            # Cancelled: the run is over or the lease is gone (a finish would be fenced),
            # or the worker is stopping (its leases are expired, the attempt counts).
            _log.info(
                "activity %s (run %s) stopped: %s",
                lease.activity,
                lease.run_id,
                control.scope.cancel_reason,
            )
            return None
        if out.deferred:
            if retry_transient(
                lambda: self.journal.defer_task(lease), within_s=self.finish_retry_s
            ):
                return TaskFinish("deferred", lease.run_id)
            return TaskFinish("fenced", lease.run_id)
        if not out.ok and control.has_pending:
            control.flush()  # the next attempt reads the newest details
        return self._finish(lease, out)

    def _abandoned(self, control: AttemptControl) -> None:
        what = control.describe()
        with self._lock:
            self.abandoned.append(what)
        _log.warning(
            "activity %s (run %s, task %s, attempt %s) ignored cancellation (%s); the worker "
            "let go of it: its thread runs on as a daemon and nothing it does is recorded",
            what["activity"],
            what["run_id"],
            what["task_id"],
            what["attempt"],
            what["cancel_reason"] or "worker shutting down",
        )
        self._emit("activity.abandoned", {**what, "executor": "builtin"})

    def _finish(self, lease: TaskLease, out: AttemptResult) -> TaskFinish:
        # A retried finish after a lost ack reports "fenced" (the first one committed);
        # either way the outcome is recorded exactly once.
        runs = self.runs
        fused = self.fused
        # Only when this attempt is the pool's one: with others in flight, their finishes
        # group-commit together (fewer transactions per step under load), and fusing
        # would take this one out of the group.
        if (
            out.ok
            and fused is not None
            and runs is not None
            and self.inflight <= 1
            and fused.wanted(lease)
        ):
            finish = self._finish_fused(fused, runs, lease, out)
            if finish is not None:
                return finish
        claim = runs is not None and runs.reserve()
        try:
            got = self.finisher.commit((lease, out.result, claim)) if out.ok else None
            if got is None:
                got = retry_transient(
                    lambda: self._finish_alone(lease, out, claim), within_s=self.finish_retry_s
                )
        except BaseException:
            if runs is not None and claim:
                runs.unreserve()
            raise
        finish, run_lease, loaded = got
        if runs is not None and claim:
            if run_lease is not None and loaded is not None:
                runs.adopt(run_lease, loaded)
            else:
                runs.unreserve()
        return finish

    def _finish_fused(
        self, fused: FusedSteps, runs: RunHandoff, lease: TaskLease, out: AttemptResult
    ) -> TaskFinish | None:
        """The finish and the parked run's next activation in one transaction; ``None``
        when that could not be done (the ordinary finish then records the outcome)."""
        if not runs.reserve():  # the activation needs a run slot like any other
            return None
        try:
            got = fused.finish(lease, out.result)
        except (ActivationAborted, Exception) as exc:
            runs.unreserve()
            _log.info("activity task %s: one-transaction step not taken (%s)", lease.id, exc)
            return None
        if got.run_lease is not None and got.loaded is not None:
            runs.adopt(got.run_lease, got.loaded)
        else:
            runs.unreserve()
        return got.finish

    def _finish_alone(self, lease: TaskLease, out: AttemptResult, claim: bool) -> Finished:
        if not claim:
            finish = self.journal.finish_task(
                lease, ok=out.ok, result=out.result, error=out.error, final=out.final
            )
            return finish, None, None
        # A lost ack here may leave the run leased to us under a token we never saw: the
        # heartbeater hands it back on its next beat (release_orphaned_runs); nothing is
        # ever written under that token.
        return self.journal.finish_task_and_claim(
            lease, self.owner, ok=out.ok, result=out.result, error=out.error, final=out.final
        )

    def drain(self, timeout: float | None) -> bool:
        """Wait for in-flight attempts; ``True`` if they all finished in time."""
        with self._lock:
            pending = set(self._inflight)
        _, not_done = wait_futures(pending, timeout=timeout)
        return not not_done

    def shutdown(self, timeout: float) -> list[dict[str, Any]]:
        """Bounded drain (call after :meth:`stop`): wait, cancel, then abandon.

        In-flight attempts get most of ``timeout`` to finish; then they are cancelled
        (``heartbeat()`` raises ``ActivityCancelled``, async bodies get
        ``CancelledError``) and given the rest; whatever still runs at the end is
        abandoned and returned (each also logged and in :attr:`abandoned`). Never
        takes much longer than ``timeout``.
        """
        end = time.monotonic() + max(timeout, 0.0)
        cancel_window = min(2.0, max(timeout, 0.0) / 4)
        if self.drain(max(end - cancel_window - time.monotonic(), 0.0)):
            return []
        with self._lock:
            running = list(self._running.values())
        for control in running:
            control.cancel("the worker is shutting down")
        if self.drain(max(end - time.monotonic(), 0.0)):
            return []
        with self._lock:
            running = list(self._running.values())
            before = len(self.abandoned)
        for control in running:
            control.abandon()
        self.drain(0.5)  # the attempts' own threads return at once once let go
        with self._lock:
            return self.abandoned[before:]

    def on_stop(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.executor is not None:
            try:
                self.executor.close()
            except Exception:
                _log.exception("closing the %s activity executor failed", self.executor.name)
