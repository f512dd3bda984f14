"""``continuum.Worker``: one process's share of the work of one instance.

>>> worker = continuum.Worker(client, workflows=[order_flow], activities=[charge, refund])
>>> worker.run()                 # blocks until stop() (the CLI stops on SIGINT/SIGTERM)
>>> with worker: ...             # or run it in background threads for the block

A worker owns, for its instance: the run dispatcher, the activity dispatcher and its
pool, the lease heartbeater, the liveness registry (dead-worker takeover), the timer
wheel and the signal router — each a small thread of its own (SPEC §5). Any number of
workers, in any number of processes, may share one database: Postgres coordinates, and
leases with fencing tokens are the only write authority.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable
from datetime import timedelta
from types import TracebackType
from typing import Any

import psycopg

from continuum.db.partitions import ensure_partitions
from continuum.db.retrying import retry_transient
from continuum.definitions.activity import Activity
from continuum.definitions.registry import REGISTRY
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.durations import retention_seconds
from continuum.engine.types import ActivationResult
from continuum.errors import ConfigurationError, ContinuumError
from continuum.instance import Binding, Instance, make_journal
from continuum.journal.channels import (
    QUEUE_READY,
    RUN_WAKE,
    TASK_CANCELLED,
    TASK_READY,
    TIMER_ARMED,
)
from continuum.journal.records import Lease, TaskLease
from continuum.runtime.activities import ActivityDispatcher
from continuum.runtime.dispatcher import RunDispatcher
from continuum.runtime.driver import RunDriver
from continuum.runtime.executor import ExternalExecutor
from continuum.runtime.fused import FusedSteps
from continuum.runtime.group_commit import GroupCommitter, batchable
from continuum.runtime.lease import DEFAULT_RENEW_S, DEFAULT_TTL_S, LeaseHeartbeater
from continuum.runtime.liveness import GRACE_S, HEARTBEAT_S, Liveness, Reaper, new_worker_id
from continuum.runtime.local import LocalHost
from continuum.runtime.queries import query
from continuum.runtime.queues import QueueAdmitter
from continuum.runtime.schedules import ScheduleFirer
from continuum.runtime.service import Service
from continuum.runtime.signals import SignalRouter
from continuum.runtime.snapshotter import Snapshotter
from continuum.runtime.sticky import DEFAULT_MAX_RUNS as DEFAULT_STICKY_RUNS
from continuum.runtime.sticky import StickyCache
from continuum.runtime.timers import TimerWheel

_log = logging.getLogger("continuum.runtime.worker")

WAKE_WINDOW_S = 3600.0
"""At boot, backed-off runs of the worker's versions waking within this many seconds (or
its own unknown-version back-off, if longer) are made due at once."""


EXECUTORS = ("builtin", "procrastinate")


def parse_executor(spec: object) -> tuple[str, dict[str, Any]]:
    """``"builtin"``, ``"procrastinate"`` or ``(name, {options})`` as ``(name, options)``;
    the options are checked here, before anything starts."""
    name: object = spec if isinstance(spec, str) else None
    options: object = {} if isinstance(spec, str) else None
    if isinstance(spec, tuple) and len(spec) == 2:
        name, options = spec
    if name not in EXECUTORS or not isinstance(options, dict):
        raise ConfigurationError(
            f"Worker(activity_executor={spec!r}): expected 'builtin', 'procrastinate' or "
            "('procrastinate', {'queue': ..., 'queue_ttl': ..., 'app': ...})"
        )
    if name == "procrastinate":
        try:
            from continuum.executors.procrastinate import check_options
        except ImportError as exc:  # the optional extra is not installed
            raise ConfigurationError(
                "Worker(activity_executor='procrastinate') needs the procrastinate package: "
                "pip install 'continuum[procrastinate]'"
            ) from exc
        check_options(options)
    return str(name), dict(options)


class Worker:
    """Executes runs and activity tasks for one instance until stopped.

    ``retention`` (e.g. ``continuum.days(90)``) is kept as the retention of runs this
    worker finishes that have none of their own (``start(retention=)`` and the workflow's
    ``retention=`` win). ``snapshot_threshold`` snapshots runs of workflows that set none
    every ~N events (see the operations guide); both default to off.

    ``sticky_runs`` is how many suspended runs the worker keeps parked in memory, so
    their next activation here continues where they stopped instead of reloading and
    replaying their history (:mod:`continuum.runtime.sticky`); 0 turns that off.
    """

    def __init__(
        self,
        client: Binding,
        workflows: Iterable[Workflow[Any, Any]] = (),
        activities: Iterable[Activity[..., Any]] = (),
        *,
        instance: str | None = None,
        max_runs: int = 4,
        max_activities: int = 8,
        poll_interval: float = 2.0,
        lease_ttl: float = DEFAULT_TTL_S,
        lease_renew: float = DEFAULT_RENEW_S,
        heartbeat_interval: float = HEARTBEAT_S,
        dead_after: float = GRACE_S,
        sweep_interval: float = 5.0,
        signal_backstop: float = 5.0,
        versions: VersionRegistry | None = None,
        unknown_version_backoff: float | None = None,
        retention: timedelta | None = None,
        snapshot_threshold: int | None = None,
        activity_executor: str | tuple[str, dict[str, Any]] = "builtin",
        sticky_runs: int = DEFAULT_STICKY_RUNS,
    ) -> None:
        self.client = client
        # Defaults for the runs this worker executes; a workflow's own setting wins.
        self.retention_s = retention_seconds(retention, "Worker")
        if snapshot_threshold is not None and (
            not isinstance(snapshot_threshold, int) or snapshot_threshold < 1
        ):
            raise ConfigurationError(
                "Worker: snapshot_threshold must be a positive number of events, got "
                f"{snapshot_threshold!r} (leave it out to turn snapshots off)"
            )
        self.snapshot_threshold = snapshot_threshold
        if not isinstance(sticky_runs, int) or sticky_runs < 0:
            raise ConfigurationError(
                "Worker: sticky_runs must be a number of runs >= 0 (0 turns sticky "
                f"execution off), got {sticky_runs!r}"
            )
        self.sticky = StickyCache(max_runs=sticky_runs)
        self.versions = versions if versions is not None else client.versions
        # How long a run whose version this node lacks waits before any node retries it.
        self.unknown_version_backoff = (
            unknown_version_backoff
            if unknown_version_backoff is not None
            else float(os.environ.get("CONTINUUM_UNKNOWN_VERSION_BACKOFF", "30"))
        )
        self.instance_name = instance or client.instance_name
        self.activity_executor = parse_executor(activity_executor)
        self._workflows: dict[str, Workflow[Any, Any]] = {}
        for flow in workflows:
            self._workflows[flow.name] = flow
        self._activities = {a.name: a for a in activities}
        self.max_runs = max_runs
        self.max_activities = max_activities
        self.poll_interval = poll_interval
        self.lease_ttl = lease_ttl
        self.lease_renew = lease_renew
        self.heartbeat_interval = heartbeat_interval
        self.dead_after = dead_after
        self.sweep_interval = sweep_interval
        self.signal_backstop = signal_backstop
        self.id = new_worker_id(self.instance_name)
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._started = False
        self._lock = threading.Lock()
        self._instance: Instance | None = None
        self.abandoned: list[dict[str, Any]] = []
        """Activity attempts the last :meth:`stop` let go of (they ignored cancellation)."""

    # -- definitions ------------------------------------------------------------------
    def _resolve(self, name: str, version_hash: str) -> Workflow[Any, Any] | None:
        frozen = self.versions.resolve(name, version_hash)
        if frozen is not None:
            return frozen
        flow = self._workflows.get(name)
        if flow is not None and flow.version_hash == version_hash:
            return flow
        return REGISTRY.version(name, version_hash)

    def _live_definition(self, name: str) -> Workflow[Any, Any] | None:
        flow = self._workflows.get(name)
        if flow is not None:
            return flow
        try:
            return REGISTRY.workflow(name)
        except ContinuumError:
            return None

    def _activity(self, name: str) -> Activity[..., Any]:
        return self._activities.get(name) or REGISTRY.activity(name)

    def _versions(self) -> list[Workflow[Any, Any]]:
        live = list(self._workflows.values()) or REGISTRY.workflows()
        frozen = [
            flow
            for info in self.versions.versions()
            if (flow := self.versions.resolve(info.workflow, info.version_hash)) is not None
        ]
        return frozen + [f for f in live if not any(f.name == g.name for g in frozen)]

    def _current_version(self, name: str) -> str | None:
        live = self._workflows.get(name)
        try:
            if live is not None:
                return self.versions.for_start(live).version_hash
        except ContinuumError:
            return None
        return None

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        """Connect and start every component in background threads; returns at once."""
        with self._lock:
            if self._started:
                return
            self._started = True
        inst = Instance(
            self.instance_name,
            self.client.dsn,
            pool_max_size=self.max_runs + self.max_activities + 4,
            application_name=f"continuum-worker:{self.instance_name}",
        )
        inst.open()
        self._instance = inst
        journal = make_journal(inst.pool, instance=self.instance_name, lease_ttl_s=self.lease_ttl)
        self.journal = journal
        if self.sticky.enabled:
            journal.sticky_hint = self.sticky.known_seq
        versions = self._versions()
        self._register_versions(versions)
        with inst.connection() as conn:
            ensure_partitions(conn)  # no default partition: never let next month's inserts fail
        self.committer: GroupCommitter[tuple[Lease, ActivationResult, int], list[TaskLease]]
        self.committer = GroupCommitter(
            lambda items: journal.commit_activations(items, task_owner=self.id)
        )
        self.heartbeater = LeaseHeartbeater(
            journal, self.id, ttl_s=self.lease_ttl, renew_s=self.lease_renew
        )
        host = LocalHost(
            journal, self._activity, instance=self.instance_name, stopping=self._stopping
        )
        self.driver = RunDriver(
            journal,
            self._resolve,
            host,
            instance=self.instance_name,
            on_commit=self._committed,
            current_version=self._current_version,
            unknown_version_backoff=timedelta(seconds=self.unknown_version_backoff),
            commit=self._commit_activation,
            snapshotter=Snapshotter(
                journal.save_snapshot,
                default_threshold=self.snapshot_threshold,
                live=self._live_definition,
                instance=self.instance_name,
            ),
            sticky=self.sticky,
        )
        self.runs = RunDispatcher(
            journal,
            self.driver,
            self.heartbeater,
            self.id,
            max_runs=self.max_runs,
            poll_interval_s=self.poll_interval,
            recover_s=self.sweep_interval,
            next_due_in=lambda: self._seconds_until("next_run_in"),
        )
        executor = self._make_executor(inst)
        self.activities = ActivityDispatcher(
            journal,
            self.heartbeater,
            self.id,
            self._activity,
            instance=self.instance_name,
            max_activities=self.max_activities,
            poll_interval_s=self.poll_interval,
            sweep_s=self.sweep_interval,
            next_due_in=lambda: self._seconds_until("next_task_in"),
            runs=self.runs,
            executor=executor,
        )
        if self.sticky.enabled and executor is None:
            self.activities.fused = FusedSteps(
                journal, self.driver, self.sticky, self.activities, self.id
            )
        self.timers = TimerWheel(inst, self.runs.poke, on_schedule_due=self._schedule_due)
        self.schedules = ScheduleFirer(journal, self.timers, self._current_version)
        self.queues = QueueAdmitter(journal)
        self.liveness = Liveness(
            inst,
            journal,
            self.id,
            versions=[(w.name, w.version_hash) for w in versions],
            heartbeat_s=self.heartbeat_interval,
        )
        self.reaper = Reaper(
            inst,
            journal,
            self.id,
            interval_s=self.heartbeat_interval,
            grace_s=self.dead_after,
            on_reaped=self._reaped,
        )
        self.router = SignalRouter(
            inst.dsn,
            backstop_s=self.signal_backstop,
            application_name=f"continuum-listener:{self.instance_name}",
        )
        self.router.subscribe(RUN_WAKE, self.runs.wake)
        self.router.subscribe(TASK_READY, lambda _id: self.activities.poke())
        self.router.subscribe(TIMER_ARMED, self.timers.armed)
        self.router.subscribe(QUEUE_READY, self.queues.ready)
        self.router.subscribe(TASK_CANCELLED, self.activities.task_cancelled)
        self.router.on_rescan(self._rescan)
        self.liveness.register()
        services = (self.liveness, self.reaper, self.heartbeater, self.timers)
        for service in (*services, self.runs, self.activities, self.schedules, self.queues):
            service.start()
        self.router.start()
        _log.info("worker %s started (%d workflow versions)", self.id, len(versions))

    def _make_executor(self, inst: Instance) -> ExternalExecutor | None:
        kind, options = self.activity_executor
        if kind == "builtin":
            return None
        from continuum.executors.procrastinate import make_executor

        return make_executor(self.journal, inst.pool, options, self.instance_name)

    def _register_versions(self, versions: list[Workflow[Any, Any]]) -> None:
        assert self._instance is not None
        with self._instance.connection() as conn:
            for flow in versions:
                conn.execute(
                    query("upsert_workflow_version"),
                    {
                        "workflow": flow.name,
                        "version_hash": flow.version_hash,
                        "entrypoint": f"{flow.fn.__module__}:{flow.fn.__qualname__}",
                    },
                )
            # Runs an incapable node backed off wait for no back-off once a node that has
            # their version is up: they are due now, and this worker's first claim sees them.
            woken = conn.execute(
                query("wake_backed_off_runs"),
                {
                    "workflows": [flow.name for flow in versions],
                    "hashes": [flow.version_hash for flow in versions],
                    "within_s": max(self.unknown_version_backoff, WAKE_WINDOW_S),
                },
            ).fetchall()
        if woken:
            _log.info(
                "worker %s: %d backed-off run(s) of its versions made due", self.id, len(woken)
            )

    def _seconds_until(self, name: str) -> float | None:
        assert self._instance is not None
        with self._instance.connection() as conn:
            row = conn.execute(query(name)).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def _commit_activation(
        self, lease: Lease, result: ActivationResult, successor: str | None
    ) -> None:
        # New tasks go straight to this worker's activity pool when it has room: leased in
        # the commit transaction itself, so they need no claim transaction.
        wanted = len(result.new_tasks)
        reserved = self.activities.reserve(wanted) if wanted else 0
        try:
            grouped = (
                self.committer.commit((lease, result, reserved)) if batchable(result) else None
            )
            leases = (
                grouped
                if grouped is not None
                else self.journal.commit_activation_leasing(
                    lease,
                    result,
                    successor_version=successor,
                    task_owner=self.id,
                    max_tasks=reserved,
                    notify_timers=False,
                )
            )
        except BaseException:
            self.activities.unreserve(reserved)
            raise
        self.activities.adopt(leases, reserved)
        if len(leases) < wanted:
            # NOTIFY reaches us too, but a local poke saves a round trip.
            self.activities.poke()

    def _committed(self, run_id: str, result: ActivationResult) -> None:
        if result.new_timers:
            # Announced to this worker's wheel only (no NOTIFY: see commit_activation_leasing).
            self.timers.armed()
        if result.new_children or result.outcome.kind == "continued":
            self.runs.poke()
        if self.retention_s is not None and result.outcome.kind != "suspended":
            try:
                self.journal.apply_default_retention([run_id], self.retention_s)
            except psycopg.Error as exc:  # the run is kept longer, never lost: log and go on
                _log.warning("run %s: could not set the default retention (%s)", run_id, exc)

    def _reaped(self, dead: list[str]) -> None:
        self.activities.sweep_soon()
        self.runs.poke()

    def _schedule_due(self) -> None:
        self.schedules.poke()

    def _rescan(self) -> None:
        self.queues.rescan()
        self.runs.poke()
        self.activities.poke()
        self.timers.armed()

    def run(self) -> None:
        """Start (if needed) and block until :meth:`stop` is called; then shut down."""
        self.start()
        try:
            while not self._stopping.wait(0.5):
                pass
        finally:
            self.stop()

    def request_stop(self) -> None:
        """Ask :meth:`run` to return (safe from signal handlers)."""
        self._stopping.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let in-flight work finish (up to ``timeout``), release, disconnect.

        The whole stop takes about ``timeout`` at most. Activity attempts still running
        near the end are cancelled (``heartbeat()`` raises ``ActivityCancelled``, async
        bodies get ``CancelledError``); those that ignore it are abandoned — listed in
        :attr:`abandoned` and in a warning — and their daemon threads never keep the
        process alive. Leases of abandoned work are expired so other workers take it over
        at once (an abandoned activity attempt counts as one).
        """
        self._stopping.set()
        with self._lock:
            if not self._started or self._stopped.is_set():
                return
            self._stopped.set()
        end = time.monotonic() + max(timeout, 0.0)

        def left() -> float:
            return max(end - time.monotonic(), 0.0)

        services: tuple[Service, ...] = (
            self.runs,
            self.activities,
            self.timers,
            self.schedules,
            self.queues,
        )
        for service in services:
            service.stop()
        self.router.stop()
        self.runs.join(left())
        self.activities.join(left())
        self.runs.drain(left())
        self.sticky.clear()
        self.abandoned = self.activities.shutdown(left())
        self.sticky.clear()  # and whatever a step finishing meanwhile parked
        services = (self.heartbeater, self.liveness, self.reaper)
        for service in services:
            service.stop()
        for service in (*services, self.timers, self.schedules, self.queues):
            service.join(min(left() + 1.0, 2.0))
        self.router.join(min(left() + 1.0, 2.0))
        try:
            retry_transient(lambda: self.journal.expire_leases_of([self.id]), within_s=5.0)
            self.liveness.unregister()
        except Exception as exc:
            _log.warning("worker %s: could not deregister cleanly: %s", self.id, exc)
        assert self._instance is not None
        self._instance.close()
        if self.abandoned:
            _log.warning(
                "worker %s stopped after its %gs drain with %d activity attempt(s) abandoned "
                "(they ignored cancellation; other workers retry them): %s",
                self.id,
                timeout,
                len(self.abandoned),
                "; ".join(
                    f"{a['activity']} (run {a['run_id']}, task {a['task_id']}, "
                    f"attempt {a['attempt']})"
                    for a in self.abandoned
                ),
            )
        _log.info("worker %s stopped", self.id)

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
