"""The procrastinate activity executor (extra ``procrastinate``; the seeds' Oban executor).

Two halves, on the same PostgreSQL:

- **Dispatching** (a Continuum worker with
  ``activity_executor=("procrastinate", {"queue": "continuum_activities"})``): the
  activity dispatcher claims due tasks exactly as the builtin pool does (same lease,
  same attempt counting) and, instead of running them, defers one procrastinate job per
  attempt naming the task, the attempt and the lease token. While the job waits in the
  queue the task is owned by ``queued:procrastinate``; a job not started within
  ``queue_ttl`` seconds is taken back without counting the attempt.
- **Executing** (a procrastinate worker process built with :func:`continuum_app`): the
  job adopts the attempt (fenced by token and attempt — a stale or duplicate job does
  nothing), runs the activity body with the activity context, heartbeats and
  cancellation of the builtin pool, renews the task lease while it runs, and records
  the outcome with Continuum's fenced finish. Procrastinate's own retries are off:
  Continuum's retry policy, idempotency keys, heartbeat timeouts and completion CAS
  apply unchanged. A killed procrastinate worker's attempt is retried by Continuum
  once its lease lapses.

>>> app = continuum_app(dsn, activities=[charge, refund])   # in the procrastinate process
>>> app.run_worker(queues=["continuum_activities"])
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import procrastinate
from procrastinate.job_context import JobContext
from psycopg_pool import ConnectionPool

from continuum import telemetry
from continuum.db.retrying import retry_transient
from continuum.definitions.activity import Activity
from continuum.definitions.registry import REGISTRY
from continuum.errors import ConfigurationError
from continuum.journal.postgres import PostgresJournal
from continuum.journal.records import TaskLease
from continuum.runtime.attempt import AttemptControl, run_leased

_log = logging.getLogger("continuum.executors.procrastinate")

TASK_NAME = "continuum.execute_activity"
"""The procrastinate task every Continuum activity attempt is deferred as."""
QUEUED_OWNER = "queued:procrastinate"
DEFAULT_QUEUE = "continuum_activities"
DEFAULT_QUEUE_TTL_S = 600.0
_OPTIONS = {"queue", "queue_ttl", "app"}


def check_options(options: dict[str, Any]) -> None:
    """Reject options the executor does not know, before a worker starts."""
    where = "Worker(activity_executor=('procrastinate', {...}))"
    unknown = set(options) - _OPTIONS
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(_OPTIONS))}"
        )
    queue = options.get("queue", DEFAULT_QUEUE)
    if not isinstance(queue, str) or not queue:
        raise ConfigurationError(f"{where}: 'queue' must be a non-empty string, got {queue!r}")
    ttl = options.get("queue_ttl", DEFAULT_QUEUE_TTL_S)
    if isinstance(ttl, bool) or not isinstance(ttl, int | float) or ttl <= 0:
        raise ConfigurationError(f"{where}: 'queue_ttl' must be seconds > 0, got {ttl!r}")
    app = options.get("app")
    if app is not None and not isinstance(app, procrastinate.App):
        raise ConfigurationError(
            f"{where}: 'app' must be a procrastinate.App, got {type(app).__name__}"
        )


class ProcrastinateExecutor:
    """The dispatching half: defers one procrastinate job per leased attempt."""

    name = "procrastinate"

    def __init__(
        self,
        journal: PostgresJournal,
        pool: ConnectionPool[Any],
        options: dict[str, Any],
        *,
        instance: str = "default",
    ) -> None:
        check_options(options)
        self.journal = journal
        self.instance = instance
        self.queue = str(options.get("queue", DEFAULT_QUEUE))
        self.queue_ttl = timedelta(seconds=float(options.get("queue_ttl", DEFAULT_QUEUE_TTL_S)))
        app = options.get("app")
        self._owns_app = app is None
        # Deferring is synchronous; by default it shares the worker's connection pool.
        self.app: procrastinate.App = app or procrastinate.App(
            connector=procrastinate.SyncPsycopgConnector()
        )
        if self._owns_app:
            self.app.open(pool)
        self._deferrer = self.app.configure_task(TASK_NAME, queue=self.queue)

    def hand_off(self, leases: list[TaskLease]) -> list[TaskLease]:
        """Queue each attempt; return the ones that could not be queued."""
        failed: list[TaskLease] = []
        for lease in leases:
            if not self.journal.hand_off_task(lease, QUEUED_OWNER, self.queue_ttl):
                continue  # the lease was lost meanwhile (run cancelled): nothing to run
            try:
                job_id = self._deferrer.defer(
                    task_id=lease.id, attempt=lease.attempt, token=lease.token
                )
            except Exception as exc:
                _log.warning("could not defer activity task %s to procrastinate: %s", lease.id, exc)
                failed.append(lease)
                continue
            telemetry.emit(
                "activity.handed_off",
                {
                    "run_id": lease.run_id,
                    "activity": lease.activity,
                    "attempt": lease.attempt,
                    "task_id": lease.id,
                    "executor": "procrastinate",
                    "procrastinate_job_id": job_id,
                },
                instance=self.instance,
            )
        return failed

    def close(self) -> None:
        """Close the app if this executor opened it (the pool stays the worker's)."""
        if self._owns_app:
            self.app.close()


class _Renewer:
    """Renews one task lease every ``every_s`` while its attempt runs."""

    def __init__(self, journal: PostgresJournal, control: AttemptControl, every_s: float) -> None:
        self.journal = journal
        self.control = control
        self.every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="continuum-task-renewer", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            try:
                alive = retry_transient(
                    lambda: self.journal.heartbeat_task(self.control.lease),
                    within_s=self.every_s,
                    stop=self._stop.is_set,
                )
            except Exception as exc:
                _log.warning("task lease renewal failed: %s", exc)
                continue
            if not alive:
                self.control.lease_lost()
                return


class ActivityRunner:
    """The executing half: runs the attempt a procrastinate job names."""

    def __init__(
        self,
        dsn: str,
        activities: Iterable[Activity[..., Any]] = (),
        *,
        instance: str = "default",
        lease_ttl: float = 30.0,
        lease_renew: float = 10.0,
        cancel_grace: float = 5.0,
    ) -> None:
        if lease_renew >= lease_ttl:
            raise ConfigurationError("lease_renew must be shorter than lease_ttl")
        self.dsn = dsn
        self.activities = {a.name: a for a in activities}
        self.instance = instance
        self.lease_ttl = lease_ttl
        self.lease_renew = lease_renew
        self.cancel_grace = cancel_grace
        self._journal: PostgresJournal | None = None
        self._lock = threading.Lock()

    @property
    def journal(self) -> PostgresJournal:
        """The journal (its own pool), opened on the first job."""
        with self._lock:
            if self._journal is None:
                self._journal = PostgresJournal(
                    self.dsn,
                    instance=self.instance,
                    task_lease_ttl=timedelta(seconds=self.lease_ttl),
                )
            return self._journal

    def activity_for(self, name: str) -> Activity[..., Any]:
        """A registered activity by name (those passed in first, then the registry)."""
        return self.activities.get(name) or REGISTRY.activity(name)

    def _emit(self, event: str, meta: dict[str, Any]) -> None:
        telemetry.emit(event, meta, instance=self.instance)

    def run(self, task_id: int, attempt: int, token: int, *, job_id: int | None = None) -> str:
        """Adopt and run one attempt; returns what happened (``completed``, ``stale``, ...)."""
        journal = self.journal
        owner = f"procrastinate:{job_id}"
        lease = retry_transient(lambda: journal.adopt_task(task_id, attempt, token, owner))
        meta: dict[str, Any] = {
            "task_id": task_id,
            "attempt": attempt,
            "executor": "procrastinate",
            "procrastinate_job_id": job_id,
        }
        if lease is None:
            # Superseded (taken back from the queue, retried, run cancelled) or a duplicate.
            _log.info(
                "procrastinate job %s: activity task %s attempt %s is stale",
                job_id,
                task_id,
                attempt,
            )
            self._emit("activity.fenced", meta)
            return "stale"
        meta.update(run_id=lease.run_id, activity=lease.activity, trace_context=lease.trace_context)
        control = AttemptControl(journal, lease, cancel_grace_s=self.cancel_grace)
        renewer = None
        if lease.heartbeat_timeout_ms is None:  # otherwise only the activity's heartbeats renew
            renewer = _Renewer(journal, control, self.lease_renew)
            renewer.start()
        try:
            out = run_leased(journal, control, self.activity_for, self._emit, meta)
        finally:
            if renewer is not None:
                renewer.stop()
        kind = "compensation" if lease.kind == "compensation" else "activity"
        if out is None:
            self._emit("activity.abandoned", {**meta, **control.describe()})
            return "abandoned"
        if control.stopped and not out.ok:
            return "cancelled"
        if out.deferred:
            ok = retry_transient(lambda: journal.defer_task(lease))
            self._emit(f"{kind}.deferred" if ok else "activity.fenced", meta)
            return "deferred" if ok else "fenced"
        if not out.ok and control.has_pending:
            control.flush()
        finish = retry_transient(
            lambda: journal.finish_task(
                lease, ok=out.ok, result=out.result, error=out.error, final=out.final
            )
        )
        event = {
            "fenced": "activity.fenced",
            "retry": f"{kind}.retry",
            "completed": f"{kind}.completed",
        }.get(finish.status, f"{kind}.failed")
        self._emit(event, meta)
        return finish.status

    def close(self) -> None:
        """Close the journal's pool."""
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None


def continuum_app(
    dsn: str,
    activities: Iterable[Activity[..., Any]] = (),
    *,
    app: procrastinate.App | None = None,
    lease_ttl: float = 30.0,
    lease_renew: float = 10.0,
    cancel_grace: float = 5.0,
) -> procrastinate.App:
    """A procrastinate app whose workers execute Continuum activity attempts.

    Run it like any procrastinate app (``app.run_worker(queues=["continuum_activities"])``
    or ``procrastinate --app=module.app worker``). ``activities`` are looked up by name
    (then the registry of every imported ``@continuum.activity``). Pass ``app`` to add
    the Continuum task to an app of your own. Apply procrastinate's schema once
    (``app.schema_manager.apply_schema()`` or ``procrastinate schema --apply``).
    """
    runner = ActivityRunner(
        dsn,
        activities,
        lease_ttl=lease_ttl,
        lease_renew=lease_renew,
        cancel_grace=cancel_grace,
    )
    target = app or procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn))

    def execute_activity(context: JobContext, task_id: int, attempt: int, token: int) -> str:
        job_id = context.job.id if context.job is not None else None
        return runner.run(task_id, attempt, token, job_id=job_id)

    target.task(name=TASK_NAME, pass_context=True, retry=False)(execute_activity)
    return target


def make_executor(
    journal: PostgresJournal, pool: ConnectionPool[Any], options: dict[str, Any], instance: str
) -> ProcrastinateExecutor:
    """Build the dispatching half for a worker (``activity_executor=("procrastinate", ...)``)."""
    return ProcrastinateExecutor(journal, pool, options, instance=instance)
