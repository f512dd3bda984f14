"""Claim → load → activate → commit: the loop every runtime shares."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from continuum import telemetry
from continuum.definitions.workflow import Workflow
from continuum.engine.activation import activate
from continuum.engine.types import ActivationHost, ActivationInput, ActivationResult
from continuum.journal.fencing import Fenced
from continuum.journal.protocol import Journal
from continuum.journal.records import Lease
from continuum.runtime.crashpoints import crash_point
from continuum.runtime.snapshotter import Snapshotter
from continuum.runtime.sticky import ParkedRun, StickyCache, hard_cancelled, resumable

Resolver = Callable[[str, str], Workflow[Any, Any] | None]
"""``(workflow name, version hash) -> definition`` or ``None`` if this node lacks it."""

Committer = Callable[[Lease, ActivationResult, str | None], None]
"""``(lease, result, successor version) -> None``: writes one activation (default:
``journal.commit_activation``)."""

UNKNOWN_VERSION_BACKOFF = timedelta(seconds=30)


@dataclass(slots=True)
class Step:
    """One activation run and not yet committed (see :meth:`RunDriver.begin`)."""

    lease: Lease
    flow: Workflow[Any, Any]
    inp: ActivationInput
    result: ActivationResult
    successor: str | None
    parked: ParkedRun | None
    started_ns: int


_log = logging.getLogger("continuum.runtime")

_OUTCOME_EVENTS = {
    "completed": "run.completed",
    "failed": "run.failed",
    "cancelled": "run.cancelled",
    "continued": "run.continued_as_new",
    "suspended": "run.suspended",
}


class RunDriver:
    """Runs one activation of one run against any :class:`Journal`."""

    def __init__(
        self,
        journal: Journal,
        resolver: Resolver,
        host: ActivationHost | None,
        *,
        instance: str = "default",
        unknown_version_backoff: timedelta = UNKNOWN_VERSION_BACKOFF,
        on_commit: Callable[[str, ActivationResult], None] | None = None,
        current_version: Callable[[str], str | None] | None = None,
        commit: Committer | None = None,
        snapshotter: Snapshotter | None = None,
        sticky: StickyCache | None = None,
    ) -> None:
        self.journal = journal
        self.resolver = resolver
        self.host = host
        self.instance = instance
        self.unknown_version_backoff = unknown_version_backoff
        self.on_commit = on_commit
        # continue_as_new successors start on the currently loaded version, not the
        # predecessor's (seed v0.6.0): chains pick up deploys.
        self.current_version = current_version
        self.commit = commit or self._commit
        self.snapshotter = snapshotter
        self.sticky = sticky if sticky is not None and sticky.enabled else None

    def _commit(self, lease: Lease, result: ActivationResult, successor: str | None) -> None:
        self.journal.commit_activation(lease, result, successor_version=successor)

    def activate_run(self, run_id: str, owner: str) -> str | None:
        """Activate ``run_id`` if it can be claimed; returns the outcome kind.

        ``None`` when another worker holds it, ``"unknown_version"`` when this node
        lacks the run's code (the lease is released and the run backed off so a capable
        node takes it), ``"fenced"`` when the lease was lost before the commit.
        """
        lease = self.journal.claim_run(run_id, owner)
        if lease is None:
            return None
        return self.activate_lease(lease)

    def activate_lease(self, lease: Lease, loaded: ActivationInput | None = None) -> str:
        """Activate a run this worker already leased (e.g. by a batch claim).

        ``loaded`` is the activation input when the caller already read it under the
        same lease (e.g. in the transaction that claimed the run).

        Returns the outcome kind, ``"unknown_version"`` or ``"fenced"`` as
        :meth:`activate_run` does. Storage errors (e.g. a lost connection) propagate:
        the caller decides how to resume the run.
        """
        step = self.begin(lease, loaded)
        return step if isinstance(step, str) else self.complete(step)

    def begin(
        self, lease: Lease, loaded: ActivationInput | None = None, *, parked_only: bool = False
    ) -> Step | str:
        """Everything before the commit: resolve, load, run the activation.

        Returns the :class:`Step` to commit, or ``"unknown_version"`` / ``"fenced"``.
        With ``parked_only`` (a caller that writes the step inside a transaction of its
        own) only a parked run resumed from memory is activated; anything else returns
        ``"cold"`` and leaves the run untouched.
        """
        run_id = lease.run_id
        started_ns = time.time_ns()
        flow = self.resolver(lease.workflow, lease.version_hash)
        if flow is None:
            if parked_only:
                return "cold"
            self.journal.release_run(lease, self.unknown_version_backoff)
            self._emit(
                "run.unknown_version",
                {"run_id": run_id, "workflow": lease.workflow, "version_hash": lease.version_hash},
            )
            return "unknown_version"
        parked: ParkedRun | None = None
        try:
            inp = loaded if loaded is not None else self.journal.load_activation(lease)
            inp.instance = self.instance
            ran = self._run(flow, lease, inp, parked_only)
            if ran is None:
                return "cold"
            parked, inp, result = ran
            if inp.snapshot_skipped is not None:
                self._emit(
                    "snapshot.skipped",
                    {"run_id": run_id, "workflow": flow.name, "reason": inp.snapshot_skipped},
                )
            successor = None
            if result.outcome.kind == "continued" and self.current_version is not None:
                successor = self.current_version(flow.name)
            if parked is not None and not parked.ended:
                # Parked before the commit, as it will stand after it: the tasks the
                # commit leases to this worker may finish (and take it) at once.
                assert self.sticky is not None
                parked.advance(result)
                self.sticky.put(parked)
        except Fenced as exc:
            if parked is not None:
                parked.settle(False)
                parked.close()
            _log.info("activation of %s fenced: %s", run_id, exc)
            self._emit("run.fenced", {"run_id": run_id})
            return "fenced"
        except BaseException:
            if parked is not None:
                parked.settle(False)
                parked.close()
            raise
        return Step(lease, flow, inp, result, successor, parked, started_ns)

    def complete(self, step: Step) -> str:
        """Commit ``step`` through the driver's committer, then :meth:`end` it."""
        try:
            self.commit(step.lease, step.result, step.successor)
        except Fenced as exc:
            self.abort(step)
            _log.info("activation of %s fenced: %s", step.lease.run_id, exc)
            self._emit("run.fenced", {"run_id": step.lease.run_id})
            return "fenced"
        except BaseException:
            self.abort(step)
            raise
        return self.end(step)

    def abort(self, step: Step) -> None:
        """``step`` was not committed: its parked run (if any) is dropped (cold next)."""
        if step.parked is not None:
            step.parked.settle(False)
            step.parked.close()

    def end(self, step: Step) -> str:
        """Everything after ``step`` committed: telemetry, callbacks, snapshots."""
        parked, inp, result, flow = step.parked, step.inp, step.result, step.flow
        run_id = step.lease.run_id
        if parked is not None:
            parked.settle(True)
        crash_point("after_journal_append")
        if parked is not None and parked.ended:
            parked.close()
        if inp.last_seq == 0:
            self._emit("run.started", {"run_id": run_id, "workflow": flow.name})
        for event, extra in result.telemetry:
            self._emit(event, {**extra, "run_id": run_id})
        kind = result.outcome.kind
        meta: dict[str, Any] = {
            "run_id": run_id,
            "workflow": flow.name,
            # For tracing bridges (continuum.otel): when this attempt began, and the
            # trace its run was started in.
            "attempt_started_ns": step.started_ns,
            "resumed_at_seq": inp.last_seq,
            "trace_context": inp.trace_context,
        }
        if kind == "failed" and result.outcome.error:
            meta["error"] = result.outcome.error.get("message")
        if kind == "suspended":
            meta["waiting_on"] = result.outcome.waiting_on
        self._emit(_OUTCOME_EVENTS[kind], meta)
        if self.on_commit is not None:
            self.on_commit(run_id, result)
        if self.snapshotter is not None:
            if parked is None or parked.ended:
                self.snapshotter.after_commit(flow, inp, result)
            elif parked.keep_history and self.snapshotter.after_commit(
                flow, parked.history_input(inp, result), result
            ):
                parked.snapshot_seq = parked.last_seq
        return kind

    def _run(
        self, flow: Workflow[Any, Any], lease: Lease, inp: ActivationInput, parked_only: bool
    ) -> tuple[ParkedRun | None, ActivationInput, ActivationResult] | None:
        """One activation: the run's parked workflow resumed when it can be (sticky),
        else cold (load if needed, then replay). Returns the parked run, if any, that
        produced the result (it is kept only if the result commits); ``None`` when
        ``parked_only`` and the run is not parked here."""
        sticky = self.sticky
        if sticky is None:
            if parked_only:
                return None
            if inp.history_after:
                inp = self.journal.load_activation(lease)
                inp.instance = self.instance
            return None, inp, activate(flow, inp, self.host)
        parked = sticky.take(lease.run_id)
        if parked is not None and resumable(parked, flow, inp):
            sticky.hits += 1
            cancelled = hard_cancelled(inp)
            if cancelled is not None:
                parked.close()
                return None, inp, cancelled
            return parked, inp, parked.resume(inp, in_transaction=parked_only)
        if parked is not None:
            parked.close()
        if parked_only:
            return None
        sticky.misses += 1
        if inp.history_after:
            inp = self.journal.load_activation(lease)
            inp.instance = self.instance
        snapshots = self.snapshotter is not None and self.snapshotter.threshold(flow) is not None
        parked = ParkedRun(flow, inp, self.host, keep_history=snapshots)
        return parked, inp, parked.start()

    def _emit(self, event: str, meta: dict[str, Any]) -> None:
        telemetry.emit(event, meta, instance=self.instance)
