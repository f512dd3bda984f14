"""An in-process environment with a virtual clock: unit-test workflows without Postgres.

>>> env = WorkflowEnvironment()
>>> run_id = env.start(order_flow, order)
>>> env.inject_signal(run_id, "fraud_review", "approved")
>>> env.advance(hours(24))
>>> env.result(run_id)

Activities run inline, in the same process, through the same journal semantics as
production (mailbox, fencing, retries with backoff, idempotency). Activity retry
backoff is skipped automatically; workflow timers move only when you ``advance`` the
clock (or call ``fire_timer``), so tests read like the calendar they model.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from continuum import payloads, telemetry
from continuum.client.answers import answer_of
from continuum.definitions.activity import Activity
from continuum.definitions.activity_context import ActivityScope
from continuum.definitions.registry import REGISTRY
from continuum.definitions.schedules import ScheduleSpec
from continuum.definitions.workflow import Workflow
from continuum.engine import events as ev_types
from continuum.engine.types import ActivationResult
from continuum.errors import (
    RunCancelled,
    RunFailed,
    RunNotFound,
    UpdateTimeout,
    WorkflowContextError,
)
from continuum.journal.memory import MemoryJournal
from continuum.journal.records import NewRun
from continuum.models import RunInfo, RunState, ScheduleInfo
from continuum.runtime.attempt import info_for
from continuum.runtime.driver import RunDriver
from continuum.runtime.execution import AttemptResult, run_attempt
from continuum.runtime.local import LocalHost
from continuum.testing.replay import verify_run
from continuum.testing.schedules import ScheduleBook

DEFAULT_START = datetime(2026, 1, 1, tzinfo=UTC)
_MISSING: Any = object()


class RunNotFinished(WorkflowContextError):
    """``env.result`` on a run that is still waiting for something."""

    code = "run_not_finished"


class WorkflowEnvironment:
    """A complete Continuum in memory: journal, inline activity worker, virtual clock."""

    def __init__(
        self,
        *,
        start_time: datetime = DEFAULT_START,
        workflows: Iterable[Workflow[Any, Any]] = (),
        activities: Iterable[Activity[..., Any]] = (),
        paranoid: bool | None = None,
        max_child_depth: int = 10,
        instance: str = "test",
    ) -> None:
        self._now = start_time
        self.instance = instance
        self.journal = MemoryJournal(
            clock=lambda: self._now, max_child_depth=max_child_depth, instance=instance
        )
        self._workflows: dict[str, Workflow[Any, Any]] = {w.name: w for w in workflows}
        self._activities: dict[str, Activity[..., Any]] = {a.name: a for a in activities}
        self.paranoid = (
            paranoid if paranoid is not None else os.environ.get("CONTINUUM_PARANOID") == "1"
        )
        self.driver = RunDriver(
            self.journal,
            self._resolve,
            LocalHost(
                self.journal, self.activity, instance=instance, backoff_wait=lambda _s: False
            ),
            instance=instance,
            on_commit=self._after_commit,
        )
        self._schedules = ScheduleBook(self._start_scheduled, self._is_open)

    # -- definitions ------------------------------------------------------------------
    def _resolve(self, name: str, version_hash: str) -> Workflow[Any, Any] | None:
        flow = self._workflows.get(name)
        if flow is not None and flow.version_hash == version_hash:
            return flow
        return REGISTRY.version(name, version_hash) or flow

    def activity(self, name: str) -> Activity[..., Any]:
        """The activity registered as ``name`` (environment first, then global)."""
        return self._activities.get(name) or REGISTRY.activity(name)

    # -- clock ------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """The virtual time."""
        return self._now

    def advance(self, delta: timedelta) -> None:
        """Move the virtual clock forward by ``delta``, running everything that falls due.

        Wake-ups inside the window run in due order, each at its own time, including
        those armed during the advance (a loop of sleeps, a ``continue_as_new`` chain of
        sleeps): ten ``sleep(seconds(1))`` finish within ``advance(seconds(10))``.
        """
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        until = self._now + delta
        self._fire_schedules()
        while (due := self._next_due()) is not None and self._now < due <= until:
            self._now = due
            self._fire_schedules()
        self._now = until
        self._fire_schedules()

    def _next_due(self) -> datetime | None:
        times = [t for t in (self.journal.next_wakeup(), self._schedules.next_fire_at()) if t]
        return min(times) if times else None

    def _fire_schedules(self) -> None:
        self.run_until_idle()
        if self._schedules.fire_due(self._now):
            self.run_until_idle()

    def fire_timer(self, run_id: str) -> None:
        """Move the clock to ``run_id``'s earliest pending timer and run what is due."""
        pending = [
            datetime.fromisoformat(ev.data.get("fire_at") or ev.data["timeout_at"])
            for ev in self.journal.history(self.journal.tip(run_id))
            if ev.type in (ev_types.TIMER_STARTED, ev_types.SIGNAL_AWAITED, ev_types.UPDATE_AWAITED)
            and (ev.data.get("fire_at") or ev.data.get("timeout_at"))
            and not self._resolved(run_id, ev.seq)
        ]
        if not pending:
            raise WorkflowContextError(f"run {run_id} has no pending timer")
        self._now = max(self._now, min(pending))
        self.run_until_idle()

    def _resolved(self, run_id: str, seq: int) -> bool:
        return any(ev.ref_seq == seq for ev in self.journal.history(self.journal.tip(run_id)))

    # -- client surface ---------------------------------------------------------------
    def start(
        self,
        flow: Workflow[Any, Any],
        input: Any = None,
        *,
        id: str | None = None,
        namespace: str = "default",
        attributes: dict[str, Any] | None = None,
    ) -> str:
        """Start a run (idempotent on ``id``) and run it until it blocks or finishes."""
        self._workflows.setdefault(flow.name, flow)
        run_id = id or uuid.uuid4().hex
        self.journal.create_run(
            NewRun(
                run_id,
                flow.name,
                flow.version_hash,
                flow.encode_input(input),
                namespace=namespace,
                attributes=payloads.encode(attributes or {}, what="attributes"),
            )
        )
        self.run_until_idle()
        return run_id

    # -- schedules (SPEC §14, on the virtual clock) -------------------------------------
    def schedule(
        self,
        id: str,
        flow: Workflow[Any, Any],
        input: Any = None,
        *,
        cron: str | None = None,
        every: timedelta | None = None,
        timezone: str = "UTC",
        overlap: str = "skip",
        catchup: timedelta | None = None,
    ) -> ScheduleInfo:
        """Create or replace a schedule, as ``Client.schedule``; ``advance`` fires it."""
        spec = ScheduleSpec(cron=cron, every=every, timezone=timezone)
        self._workflows.setdefault(flow.name, flow)
        encoded = flow.encode_input(input)
        return self._schedules.upsert(
            id, flow, encoded, spec, overlap=overlap, catchup=catchup, now=self._now
        )

    def pause_schedule(self, id: str) -> ScheduleInfo:
        """Stop firing the schedule."""
        return self._schedules.set_paused(id, True, self._now)

    def resume_schedule(self, id: str) -> ScheduleInfo:
        """Fire again from the next tick after now."""
        return self._schedules.set_paused(id, False, self._now)

    def trigger_schedule(self, id: str) -> str:
        """Start the schedule's run now and run it until it blocks or finishes."""
        run_id = self._schedules.trigger(id, self._now)
        self.run_until_idle()
        return run_id

    def unschedule(self, id: str) -> None:
        """Delete the schedule."""
        self._schedules.delete(id)

    def schedules(self) -> list[ScheduleInfo]:
        """Every schedule, by id."""
        return self._schedules.all()

    def _start_scheduled(self, flow: Workflow[Any, Any], encoded: Any, run_id: str) -> None:
        self.journal.create_run(NewRun(run_id, flow.name, flow.version_hash, encoded))

    def _is_open(self, run_id: str) -> bool:
        return not self.journal.get_run(self.journal.tip(run_id)).state.terminal

    def inject_signal(self, run_id: str, name: str, payload: Any = None) -> None:
        """Send a signal exactly as ``Client.signal`` would, then run what it wakes."""
        encoded = payloads.encode(payload, what=f"payload of signal {name!r}")
        self.journal.send_signal(run_id, name, encoded)
        self.run_until_idle()

    signal = inject_signal

    def cancel(self, run_id: str, grace: timedelta | None = None) -> None:
        """Cancel a run and its descendants (cooperatively with ``grace``, as
        ``Client.cancel`` does), then run what it wakes."""
        self.journal.cancel(run_id, grace)
        self.run_until_idle()

    def get_event(self, run_id: str, key: str, *, default: Any = _MISSING) -> Any:
        """The value the run's chain published under ``key`` (``continuum.set_event``).

        Raises ``UpdateTimeout`` (a ``TimeoutError``) when it was never set, unless a
        ``default`` is given: in memory nothing else can set it while you wait.
        """
        found, value = self.journal.get_event(run_id, key)
        if found:
            return value
        if default is not _MISSING:
            return default
        raise UpdateTimeout(f"run {run_id} has not set event {key!r} (get_event)")

    def events(self, run_id: str) -> dict[str, Any]:
        """Every event the run's chain published, by key."""
        return self.journal.events(run_id)

    def update(
        self,
        run_id: str,
        name: str,
        payload: Any = None,
        *,
        timeout: timedelta | float | None = None,
        type: Any = None,
    ) -> Any:
        """Send an update as ``Client.update`` does, run what it wakes, return the reply.

        With ``timeout`` the virtual clock moves forward through due timers, up to
        ``timeout``, until the workflow answers. Raises ``UpdateRejected``,
        ``RunTerminal`` (the run ended without answering) or ``UpdateTimeout``; an
        update nobody accepted is withdrawn on timeout.
        """
        encoded = payloads.encode(payload, what=f"payload of update {name!r}")
        update_id, _tip = self.journal.send_update(run_id, name, encoded)
        self.run_until_idle()
        if timeout is not None:
            delta = timeout if isinstance(timeout, timedelta) else timedelta(seconds=timeout)
            deadline = self._now + delta
            while self.journal.update_status(update_id).status is None:
                due = self.journal.next_wakeup()
                if due is None or due > deadline:
                    break
                self._now = max(self._now, due)
                self.run_until_idle()
        return answer_of(self.journal.update_status(update_id), name, type, self.journal)

    def get_run(self, run_id: str) -> RunInfo:
        """The run's record."""
        return self.journal.get_run(run_id)

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """The run's journal as JSON-ready dicts (the golden-file format)."""
        return [ev.to_json() for ev in self.journal.history(run_id)]

    def result(self, run_id: str) -> Any:
        """The final result of the run's chain; raises ``RunFailed``/``RunCancelled``."""
        info = self.journal.get_run(self.journal.tip(run_id))
        if info.state == RunState.COMPLETED:
            flow = self._workflows.get(info.workflow)
            return flow.decode_result(info.result) if flow else info.result
        if info.state == RunState.FAILED:
            raise RunFailed(info.id, info.error)
        if info.state == RunState.CANCELLED:
            raise RunCancelled(info.id)
        raise RunNotFinished(
            f"run {info.id} is {info.state.value}; send its signal, advance the clock or "
            "fire its timer first"
        )

    # -- the loop ---------------------------------------------------------------------
    def run_until_idle(self, max_steps: int = 100_000) -> None:
        """Activate due runs and execute due activities until nothing is left to do.

        Activity retry backoff is skipped (the clock jumps to the retry), workflow
        timers are not.
        """
        for _ in range(max_steps):
            progressed = False
            for run_id in self.journal.runnable():
                if self.driver.activate_run(run_id, f"{self.instance}/env") is not None:
                    progressed = True
            task = self.journal.claim_task(f"{self.instance}/env")
            while task is not None:
                self._execute(task)
                progressed = True
                task = self.journal.claim_task(f"{self.instance}/env")
            if progressed:
                continue
            retry_at = self.journal.next_task_at()
            if retry_at is not None and retry_at > self._now:
                self._now = retry_at
                continue
            return
        raise RuntimeError("workflow environment did not settle; is a workflow looping forever?")

    def _execute(self, task: Any) -> None:
        meta = {"run_id": task.run_id, "activity": task.activity, "attempt": task.attempt}
        telemetry.emit(f"{task.kind}.started", meta, instance=self.instance)
        if task.idempotency_key is not None:
            found, value = self.journal.idempotent_result(task.activity, task.idempotency_key)
            if found:
                telemetry.emit("activity.idempotency_hit", meta, instance=self.instance)
                self.journal.finish_task(task, ok=True, result=value)
                return
        try:
            act = self.activity(task.activity)
        except Exception as exc:
            self.journal.finish_task(
                task, ok=False, error={"type": type(exc).__name__, "message": str(exc)}
            )
            return
        timeout = task.timeout_ms / 1000 if task.timeout_ms else None
        journal = self.journal

        def beat(details: Any, has_details: bool) -> None:
            if has_details:
                journal.record_heartbeat(task, details)

        scope = ActivityScope(info_for(task), previous_details=task.heartbeat_details, beat=beat)
        out = run_attempt(act, task.args, timeout, scope)
        if out.deferred:
            out = AttemptResult(
                False,
                error={
                    "type": "continuum.errors.ConfigurationError",
                    "message": f"activity {task.activity} returned continuum.complete_later(); "
                    "the in-memory WorkflowEnvironment runs activities inline and cannot "
                    "complete them later — test asynchronous completion with a real Worker",
                    "traceback": "",
                    "code": "configuration",
                },
                final=True,
            )
        finish = self.journal.finish_task(
            task, ok=out.ok, result=out.result, error=out.error, final=out.final
        )
        if finish.status == "retry":
            telemetry.emit(f"{task.kind}.retry", meta, instance=self.instance)
        elif finish.status in ("completed", "failed"):
            telemetry.emit(f"{task.kind}.{finish.status}", meta, instance=self.instance)

    def _after_commit(self, run_id: str, result: ActivationResult) -> None:
        if not self.paranoid or result.outcome.kind not in (
            "completed",
            "continued",
            "failed",
            "cancelled",
        ):
            return
        info = self.journal.get_run(run_id)
        flow = self._resolve(info.workflow, info.version_hash)
        if flow is not None:
            verify_run(flow, self.history(run_id))


__all__ = ["RunNotFinished", "RunNotFound", "WorkflowEnvironment"]
