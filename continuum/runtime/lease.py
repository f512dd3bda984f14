"""The lease heartbeater: keeps the leases of work in progress alive.

Runs under activation and activity tasks are leased with a TTL (30 s by default) and
renewed every ``renew_s`` (10 s) while the work runs, so a crashed worker's leases
lapse within one TTL even for long activities, while a live one never loses work to a
slow body (seed v0.6.0). A transient database error does not stop renewal: it is
retried with backoff (seed v0.6.1). Only a CAS miss — the lease was taken over, the task
finished elsewhere, the run was cancelled — is terminal; the holder is told, and its
eventual write is fenced anyway. The lease token remains the only write authority.

Each beat also hands back *orphaned* run leases: runs leased to this worker under a
token none of its slots holds, because the acknowledgement of the transaction that
leased them was lost (the database committed, the reply never arrived). Nothing would
run or renew them; without this they would wait out the TTL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import timedelta

from continuum.db.retrying import is_transient, retry_transient
from continuum.journal.records import Lease, TaskLease
from continuum.runtime.contract import WorkerJournal
from continuum.runtime.service import Service

DEFAULT_TTL_S = 30.0
DEFAULT_RENEW_S = 10.0
ORPHAN_MIN_AGE = timedelta(seconds=2)
"""A run lease younger than this is never taken for an orphan: it may be on its way to a
slot of this worker right now."""

_log = logging.getLogger("continuum.runtime.lease")


@dataclass(eq=False)
class Held:
    """One lease being kept alive; ``lost`` is set when a renewal finds it gone."""

    lease: Lease | TaskLease
    lost: threading.Event = field(default_factory=threading.Event)
    on_lost: Callable[[], None] | None = None


class LeaseHeartbeater(Service):
    """Renews every tracked run and task lease of one worker every ``renew_s``."""

    name = "lease-heartbeater"

    def __init__(
        self,
        journal: WorkerJournal,
        owner: str,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        renew_s: float = DEFAULT_RENEW_S,
    ) -> None:
        super().__init__()
        if renew_s >= ttl_s:
            raise ValueError("lease renewal interval must be shorter than the lease TTL")
        self.journal = journal
        self.owner = owner
        self.ttl_s = ttl_s
        self.interval_s = renew_s
        self._lock = threading.Lock()
        self._runs: dict[int, Held] = {}
        self._tasks: dict[tuple[int, int], Held] = {}

    # -- tracking ---------------------------------------------------------------------
    def track_run(self, lease: Lease) -> Held:
        """Keep ``lease`` alive until :meth:`untrack` is called with the returned handle."""
        held = Held(lease)
        with self._lock:
            self._runs[lease.token] = held
        return held

    def track_task(self, lease: TaskLease, on_lost: Callable[[], None] | None = None) -> Held:
        """Keep a task lease alive while its attempt runs; ``on_lost`` is called if it is lost."""
        held = Held(lease, on_lost=on_lost)
        with self._lock:
            self._tasks[(lease.id, lease.attempt)] = held
        return held

    def untrack(self, held: Held) -> None:
        """Stop renewing ``held``."""
        with self._lock:
            lease = held.lease
            if isinstance(lease, TaskLease):
                self._tasks.pop((lease.id, lease.attempt), None)
            else:
                self._runs.pop(lease.token, None)

    def held_counts(self) -> tuple[int, int]:
        """``(runs, tasks)`` currently tracked."""
        with self._lock:
            return len(self._runs), len(self._tasks)

    # -- renewal ----------------------------------------------------------------------
    def tick(self) -> float | None:
        self.renew_all()
        return None

    def renew_all(self) -> None:
        """Renew every tracked lease once (retrying transient errors)."""
        with self._lock:
            runs = dict(self._runs)
            tasks = list(self._tasks.values())
        # Keep retrying for most of a TTL: past that the lease is gone anyway.
        budget = max(self.ttl_s - self.interval_s, 1.0)
        if runs:
            try:
                alive = retry_transient(
                    lambda: self.journal.heartbeat_runs(self.owner, sorted(runs)),
                    within_s=budget,
                    stop=lambda: self.stopping,
                )
            except Exception as exc:
                _log.warning("run lease renewal failed: %s", exc)
            else:
                if isinstance(alive, Collection) and not isinstance(alive, str | bytes):
                    for token, held in runs.items():
                        if token not in alive:
                            self._lose(held)
        self.release_orphans()
        for held in tasks:
            lease = held.lease
            assert isinstance(lease, TaskLease)
            try:
                ok = retry_transient(
                    lambda lease=lease: self.journal.heartbeat_task(lease),  # type: ignore[misc]
                    within_s=budget,
                    stop=lambda: self.stopping,
                )
            except Exception as exc:
                if not is_transient(exc):
                    _log.exception("task lease renewal failed")
                continue
            if not ok:
                self._lose(held)

    def release_orphans(self) -> list[str]:
        """Hand back runs leased to us under a token no slot holds (lost acks)."""
        with self._lock:  # now, not at the start of the beat: renewal may have retried
            tokens = sorted(self._runs)
        try:
            released = self.journal.release_orphaned_runs(self.owner, tokens, ORPHAN_MIN_AGE)
        except Exception as exc:
            if not is_transient(exc):
                _log.exception("could not look for orphaned run leases")
            return []  # the next beat looks again; the TTL is the backstop
        if released:
            _log.warning(
                "handed back %d run lease(s) whose acknowledgement was lost: %s",
                len(released),
                ", ".join(released),
            )
        return released

    def _lose(self, held: Held) -> None:
        if not held.lost.is_set():
            _log.info("lease lost (taken over or finished elsewhere): %s", held.lease)
            held.lost.set()
            if held.on_lost is not None:
                try:
                    held.on_lost()
                except Exception:
                    _log.exception("lease-lost callback failed")
        self.untrack(held)
