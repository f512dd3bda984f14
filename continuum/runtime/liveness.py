"""Worker liveness: a registry row per worker, heartbeated every second.

A worker that stops heartbeating for ``grace_s`` (3 s) is presumed dead: any live
worker expires the leases it held, so its runs and tasks are taken over within a few
seconds of a SIGKILL instead of a full lease TTL. This is only an accelerator — if the
"dead" worker is merely partitioned and comes back, its writes are fenced by the
rotated lease tokens; liveness never grants write authority, only removes it early.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from psycopg.types.json import Jsonb

from continuum.instance import Instance
from continuum.runtime.contract import WorkerJournal
from continuum.runtime.queries import query
from continuum.runtime.service import Service

_log = logging.getLogger("continuum.runtime.liveness")

HEARTBEAT_S = 1.0
GRACE_S = 3.0


def new_worker_id(instance: str) -> str:
    """A greppable, unique worker id: ``host/pid/instance/random``."""
    return f"{socket.gethostname()}/{os.getpid()}/{instance}/{uuid.uuid4().hex[:8]}"


class Liveness(Service):
    """Heartbeats this worker's row (see :class:`Reaper` for taking over dead ones)."""

    name = "liveness"

    def __init__(
        self,
        instance: Instance,
        journal: WorkerJournal,
        worker_id: str,
        *,
        versions: Sequence[tuple[str, str]] = (),
        heartbeat_s: float = HEARTBEAT_S,
    ) -> None:
        super().__init__()
        self.instance = instance
        self.journal = journal
        self.worker_id = worker_id
        self.versions = [f"{name}@{digest}" for name, digest in versions]
        self.interval_s = heartbeat_s

    def _params(self) -> dict[str, Any]:
        return {
            "id": self.worker_id,
            "instance": self.instance.name,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "versions": Jsonb(self.versions),
        }

    def register(self) -> None:
        """Insert (or refresh) this worker's registry row."""
        with self.instance.connection() as conn:
            conn.execute(query("register_worker"), self._params())

    def unregister(self) -> None:
        """Remove this worker's row (clean shutdown)."""
        with self.instance.connection() as conn:
            conn.execute(query("delete_worker"), {"id": self.worker_id})

    def tick(self) -> float | None:
        # Only this worker's own row: nothing here can wait on a lock another session
        # holds, so the heartbeat stays fresh while the reaper deals with the dead.
        with self.instance.connection() as conn:
            row = conn.execute(query("heartbeat_worker"), {"id": self.worker_id}).fetchone()
            if row is None:
                # Someone reaped us (we were partitioned or paused); our leases are gone
                # and our pending writes will be fenced. Rejoin as a fresh member.
                _log.warning("worker %s was presumed dead; re-registering", self.worker_id)
                conn.execute(query("register_worker"), self._params())
        return None


class Reaper(Service):
    """Takes over the leases of workers whose heartbeat went stale.

    Its own thread, apart from :class:`Liveness`: a dead worker frozen mid-transaction
    (SIGSTOP, a VM stall) still holds its row locks; the reaper skips locked rows instead
    of waiting on them, keeps that worker listed, and retries the skipped rows every
    tick until the server ends the frozen session (``idle_in_transaction_session_timeout``
    on worker connections) and releases them.
    """

    name = "reaper"

    def __init__(
        self,
        instance: Instance,
        journal: WorkerJournal,
        worker_id: str,
        *,
        interval_s: float = HEARTBEAT_S,
        grace_s: float = GRACE_S,
        on_reaped: Callable[[list[str]], None] | None = None,
    ) -> None:
        super().__init__()
        self.instance = instance
        self.journal = journal
        self.worker_id = worker_id
        self.interval_s = interval_s
        self.grace_s = grace_s
        self.on_reaped = on_reaped
        self.reaped_total = 0

    def tick(self) -> float | None:
        with self.instance.connection() as conn:
            rows = conn.execute(query("dead_workers"), {"grace_s": self.grace_s}).fetchall()
        dead = [str(r[0]) for r in rows if r[0] != self.worker_id]
        if dead:
            self.reap(dead)
        return None

    def reap(self, dead: list[str]) -> None:
        """Expire the leases of ``dead`` workers; drop the rows of those fully taken over."""
        self.journal.expire_leases_of(dead)
        held = self.journal.owners_with_leases(dead)
        done = [w for w in dead if w not in held]
        if done:
            with self.instance.connection() as conn:
                conn.execute(query("delete_dead_workers"), {"ids": done, "grace_s": self.grace_s})
            self.reaped_total += len(done)
            _log.warning("took over the leases of dead worker(s): %s", ", ".join(done))
        if held:
            _log.warning(
                "dead worker(s) %s still hold locked rows (frozen mid-transaction?); "
                "retrying their leases every %.0f s",
                ", ".join(sorted(held)),
                self.interval_s,
            )
        if done and self.on_reaped is not None:
            self.on_reaped(done)
