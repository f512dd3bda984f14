"""The in-memory journal's state and everything but activity tasks (see ``memory.py``)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from continuum.engine import events as ev_types
from continuum.engine.events import Event
from continuum.engine.types import (
    ActivationInput,
    ActivationResult,
    ChildOutcome,
    MailboxSignal,
    MailboxUpdate,
    TaskOutcome,
)
from continuum.errors import ConfigurationError, RunNotFound, RunTerminal
from continuum.journal.fencing import Fenced
from continuum.journal.memory_records import _Run, _Signal, _Task, _Update
from continuum.journal.notices import emit_cancelled
from continuum.journal.records import Lease, NewRun, UpdateStatus
from continuum.models import TERMINAL_STATES, RunInfo, RunState


class MemoryJournalCore:
    """Runs, activations, signals, cancel, events and updates of the in-memory journal."""

    def __init__(
        self,
        clock: Callable[[], datetime] | None = None,
        max_child_depth: int = 10,
        instance: str = "memory",
    ):
        self.clock = clock or (lambda: datetime.now(UTC))
        self.instance = instance
        self.max_child_depth = max_child_depth
        self._lock = threading.RLock()
        self._runs: dict[str, _Run] = {}
        self._signals: list[_Signal] = []
        self._updates: dict[int, _Update] = {}
        self._run_events: dict[tuple[str, str], Any] = {}
        self._tasks: dict[int, _Task] = {}
        self._timers: dict[tuple[str, int], tuple[datetime, bool]] = {}
        self._results: dict[tuple[str, str], Any] = {}
        self._tokens = itertools.count(1)
        self._ids = itertools.count(1)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        with self._lock:
            yield

    def now(self) -> datetime:
        """The journal's clock (the database clock, for Postgres)."""
        return self.clock()

    # -- runs ---------------------------------------------------------------------
    def create_run(self, new: NewRun) -> tuple[RunInfo, bool]:
        """Insert a runnable run; idempotent on ``new.id`` (returns the existing one)."""
        with self._tx():
            existing = self._runs.get(new.id)
            if existing is not None:
                return self._info(existing), False
            run = _Run(
                new.id,
                new.workflow,
                new.version_hash,
                new.input,
                namespace=new.namespace,
                attributes=dict(new.attributes),
                correlation_id=new.id,
                started_at=self.now(),
                next_wakeup_at=self.now(),
            )
            self._runs[run.id] = run
            return self._info(run), True

    def _get(self, run_id: str) -> _Run:
        run = self._runs.get(run_id)
        if run is None:
            raise RunNotFound(run_id)
        return run

    def tip(self, run_id: str) -> str:
        """The live end of the ``continue_as_new`` chain containing ``run_id``."""
        with self._tx():
            run = self._get(run_id)
            while run.continued_to_run_id is not None:
                run = self._get(run.continued_to_run_id)
            return run.id

    def get_run(self, run_id: str) -> RunInfo:
        """The run's public record."""
        with self._tx():
            return self._info(self._get(run_id))

    def history(self, run_id: str) -> list[Event]:
        """The run's journal, in seq order."""
        with self._tx():
            return list(self._get(run_id).events)

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first."""
        with self._tx():
            return [self._info(r) for r in self._runs.values()]

    def set_attributes(self, run_id: str, attributes: dict[str, Any]) -> None:
        """Merge ``attributes`` into the run's search attributes."""
        with self._tx():
            self._get(run_id).attributes.update(attributes)

    def _info(self, run: _Run) -> RunInfo:
        return RunInfo(
            id=run.id,
            workflow=run.workflow,
            version_hash=run.version_hash,
            state=RunState(run.state),
            namespace=run.namespace,
            attributes=dict(run.attributes),
            parent_run_id=run.parent_run_id,
            correlation_id=run.correlation_id,
            continued_from_run_id=run.continued_from_run_id,
            continued_to_run_id=run.continued_to_run_id,
            started_at=run.started_at,
            finished_at=run.finished_at,
            result=run.result,
            error=run.error,
        )

    # -- activations ----------------------------------------------------------------
    def runnable(self) -> list[str]:
        """Ids of runs that are due and unleased, oldest wake-up first."""
        now = self.now()
        with self._tx():
            due = [
                r
                for r in self._runs.values()
                if r.state in ("running", "suspended")
                and r.lease_token is None
                and r.next_wakeup_at is not None
                and r.next_wakeup_at <= now
            ]
            due.sort(key=lambda r: (r.next_wakeup_at or now, r.id))
            return [r.id for r in due]

    def next_wakeup(self) -> datetime | None:
        """The earliest future wake-up among active runs."""
        with self._tx():
            times = [
                r.next_wakeup_at
                for r in self._runs.values()
                if r.state in ("running", "suspended") and r.next_wakeup_at is not None
            ]
            return min(times) if times else None

    def claim_run(self, run_id: str, owner: str) -> Lease | None:
        """Lease a due run (rotating its fencing token), or ``None`` if not claimable."""
        with self._tx():
            run = self._runs.get(run_id)
            if run is None or run.state not in ("running", "suspended") or run.lease_token:
                return None
            run.lease_token = next(self._tokens)
            run.lease_owner = owner
            run.state = "running"
            run.next_wakeup_at = None
            return Lease(run.id, owner, run.lease_token, run.workflow, run.version_hash)

    def release_run(self, lease: Lease, retry_after: timedelta) -> None:
        """Give a lease back without progress (e.g. unknown version); back off the run."""
        with self._tx():
            run = self._get(lease.run_id)
            if run.lease_token != lease.token:
                return
            run.lease_token = None
            run.lease_owner = None
            run.state = "suspended"
            run.next_wakeup_at = self.now() + retry_after

    def load_activation(self, lease: Lease) -> ActivationInput:
        """Everything the engine needs for one activation of the leased run."""
        with self._tx():
            run = self._get(lease.run_id)
            self._check(run, lease)
            tasks = {
                t.command_seq: TaskOutcome(
                    t.command_seq, t.state == "completed", t.result, t.error, t.attempt
                )
                for t in self._tasks.values()
                if t.run_id == run.id and t.state in ("completed", "failed") and not t.journaled
            }
            children = {
                c.correlation_id: ChildOutcome(c.correlation_id, c.state, c.result, c.error)
                for c in self._runs.values()
                if c.parent_run_id == run.id
                and c.state in TERMINAL_STATES
                and c.continued_to_run_id is None
            }
            signals = [
                MailboxSignal(s.id, s.name, s.payload)
                for s in self._signals
                if s.run_id == run.id and not s.consumed
            ]
            updates = [
                MailboxUpdate(u.id, u.name, u.payload)
                for u in self._updates.values()
                if u.run_id == run.id and u.accepted_seq is None
            ]
            return ActivationInput(
                run_id=run.id,
                workflow=run.workflow,
                version_hash=run.version_hash,
                input=run.input,
                events=list(run.events),
                now=self.now(),
                last_seq=run.last_seq,
                signals=signals,
                finished_tasks=tasks,
                finished_children=children,
                cancel_requested=run.cancel_requested_at is not None,
                cancel_deadline=run.cancel_grace_until,
                updates=updates,
                namespace=run.namespace,
                parent_run_id=run.parent_run_id,
                correlation_id=run.correlation_id,
                attempt=run.attempt,
                depth=run.depth,
                max_child_depth=self.max_child_depth,
            )

    def _check(self, run: _Run, lease: Lease) -> None:
        if run.lease_token != lease.token or run.state not in ("running", "suspended"):
            raise Fenced(f"run {run.id}: lease {lease.token} is no longer current")

    def commit_activation(
        self, lease: Lease, result: ActivationResult, *, successor_version: str | None = None
    ) -> None:
        """Apply an activation atomically; raise :class:`Fenced` if the lease was lost.

        ``successor_version`` stamps a ``continue_as_new`` successor (default: same hash).
        """
        with self._tx():
            run = self._get(lease.run_id)
            self._check(run, lease)
            if result.new_events and result.new_events[0].seq != run.last_seq + 1:
                raise Fenced(f"run {run.id}: journal moved under the activation")
            now = self.now()
            for ev in result.new_events:
                ev.inserted_at = now
            run.events.extend(result.new_events)
            if result.new_events:
                run.last_seq = result.new_events[-1].seq
            for spec in result.new_tasks:
                tid = next(self._ids)
                self._tasks[tid] = _Task(
                    tid,
                    run.id,
                    spec.command_seq,
                    spec.kind,
                    spec.activity,
                    spec.args,
                    spec.idempotency_key,
                    spec.max_attempts,
                    spec.timeout_ms,
                    spec.backoff,
                    available_at=now,
                )
            for timer in result.new_timers:
                self._timers[(run.id, timer.seq)] = (timer.fire_at, False)
            for seq in result.fired_timers:
                if (run.id, seq) in self._timers:
                    self._timers[(run.id, seq)] = (self._timers[(run.id, seq)][0], True)
            self._apply_messages(run, result)
            consumed = {sid for sid, _ in result.consumed_signals}
            for sig in self._signals:
                if sig.id in consumed:
                    sig.consumed = True
            journaled = set(result.journaled_tasks)
            for task in self._tasks.values():
                if task.run_id == run.id and task.command_seq in journaled:
                    task.journaled = True
            for activity, key, value in result.idempotent_results:
                self._results.setdefault((activity, key), value)
            for child in result.new_children:
                if child.run_id not in self._runs:
                    self._runs[child.run_id] = _Run(
                        child.run_id,
                        child.workflow,
                        child.version_hash,
                        child.input,
                        namespace=run.namespace,
                        attributes=dict(run.attributes),
                        parent_run_id=run.id,
                        parent_command_seq=child.command_seq,
                        correlation_id=child.run_id,
                        depth=run.depth + 1,
                        started_at=now,
                        next_wakeup_at=now,
                    )
            self._finish(run, result, now, successor_version)

    def _apply_messages(self, run: _Run, result: ActivationResult) -> None:
        """Events, accepted updates and answers of one commit (under the lock, fenced)."""
        for upd_id, _seq in result.accepted_updates:
            upd = self._updates.get(upd_id)
            if upd is None or upd.run_id != run.id or upd.accepted_seq is not None:
                raise Fenced(f"run {run.id}: update {upd_id} was already accepted or moved")
        for upd_id, seq in result.accepted_updates:
            self._updates[upd_id].accepted_seq = seq
        for key, value, _seq in result.event_writes:
            self._run_events[(run.correlation_id, key)] = value
        for upd_id, status, answer in result.update_answers:
            upd = self._updates.get(upd_id)
            if upd is not None and upd.status is None:
                upd.status = status
                upd.answer = answer

    def _finish(
        self, run: _Run, result: ActivationResult, now: datetime, successor_version: str | None
    ) -> None:
        outcome = result.outcome
        run.lease_token = None
        run.lease_owner = None
        if outcome.kind == "suspended":
            run.state = "suspended"
            pending = [
                at for (rid, _), (at, fired) in self._timers.items() if rid == run.id and not fired
            ]
            wake = min(pending) if pending else None
            if run.next_wakeup_at is not None:  # something arrived during the activation
                wake = min(run.next_wakeup_at, wake) if wake else run.next_wakeup_at
            run.next_wakeup_at = wake
            return
        if outcome.kind == "cancelled":
            self._cancel_tree(run, now)
            return
        if outcome.kind == "continued":
            self._continue(run, outcome.continue_input, now, successor_version)
        else:
            run.state = outcome.kind
            run.result = outcome.result
            run.error = outcome.error
        self._close(run, now)

    def _close(self, run: _Run, now: datetime) -> None:
        run.finished_at = now
        run.next_wakeup_at = None
        run.lease_token = None
        for task in self._tasks.values():
            if task.run_id == run.id and task.state in ("pending", "leased"):
                task.state = "discarded"
        for key, (at, _) in list(self._timers.items()):
            if key[0] == run.id:
                self._timers[key] = (at, True)
        if run.parent_run_id is not None and run.continued_to_run_id is None:
            parent = self._runs.get(run.parent_run_id)
            if parent is not None and parent.state not in TERMINAL_STATES:
                parent.next_wakeup_at = now

    def _continue(self, run: _Run, new_input: Any, now: datetime, version: str | None) -> None:
        successor = _Run(
            f"{run.correlation_id}~{next(self._ids)}",
            run.workflow,
            version or run.version_hash,
            new_input,
            namespace=run.namespace,
            attributes=dict(run.attributes),
            parent_run_id=run.parent_run_id,
            parent_command_seq=run.parent_command_seq,
            correlation_id=run.correlation_id,
            continued_from_run_id=run.id,
            depth=run.depth,
            cancel_requested_at=run.cancel_requested_at,
            cancel_grace_until=run.cancel_grace_until,
            attempt=run.attempt + 1,
            started_at=now,
            next_wakeup_at=now,
        )
        self._runs[successor.id] = successor
        run.state = "completed"
        run.result = None
        run.continued_to_run_id = successor.id
        for sig in self._signals:
            if sig.run_id == run.id and not sig.consumed:
                sig.run_id = successor.id
        for upd in self._updates.values():
            if upd.run_id == run.id and upd.accepted_seq is None:
                upd.run_id = successor.id
        if run.cancel_grace_until is not None:
            self._timers[(successor.id, 0)] = (run.cancel_grace_until, False)
        for other in self._runs.values():
            if other.parent_run_id == run.id and other.state not in TERMINAL_STATES:
                other.parent_run_id = successor.id

    # -- signals and cancel -----------------------------------------------------------
    def send_signal(self, run_id: str, name: str, payload: Any) -> str:
        """Put a signal in the live tip's mailbox and wake it; returns the tip's id."""
        with self._tx():
            run = self._get(run_id)
            while run.continued_to_run_id is not None:
                run = self._get(run.continued_to_run_id)
            if run.state in TERMINAL_STATES:
                raise RunTerminal(run.id, run.state)
            self._signals.append(_Signal(next(self._ids), run.id, name, payload))
            self._wake(run)
            return run.id

    def _wake(self, run: _Run) -> None:
        now = self.now()
        if run.next_wakeup_at is None or run.next_wakeup_at > now:
            run.next_wakeup_at = now

    def cancel(self, run_id: str, grace: timedelta | None = None) -> RunInfo:
        """Cancel the chain tip and its descendants; idempotent on cancelled runs.

        With ``grace`` the cancel is cooperative: each run gets ``Cancelled`` at its
        next wait and is hard-cancelled once ``grace`` has passed.
        """
        if grace is not None and grace < timedelta(0):
            raise ConfigurationError(f"cancel grace must not be negative, got {grace}")
        with self._tx():
            run = self._get(run_id)
            while run.continued_to_run_id is not None:
                run = self._get(run.continued_to_run_id)
            if run.state == "cancelled":
                return self._info(run)
            if run.state in TERMINAL_STATES:
                raise RunTerminal(run.id, run.state, "cancel")
            if grace is not None:
                self._request_cancel_tree(run, self.now(), grace)
                return self._info(run)
            cancelled = self._cancel_tree(run, self.now())
            info = self._info(run)
        emit_cancelled(cancelled, instance=self.instance)
        return info

    def _request_cancel_tree(self, root: _Run, now: datetime, grace: timedelta) -> None:
        level = [root]
        while level:
            for run in level:
                if run.cancel_requested_at is None:
                    run.cancel_requested_at = now
                    run.cancel_grace_until = now + grace
                    self._timers[(run.id, 0)] = (run.cancel_grace_until, False)
                self._wake(run)
            ids = {r.id for r in level}
            level = [
                r
                for r in self._runs.values()
                if r.parent_run_id in ids and r.state not in TERMINAL_STATES
            ]

    # -- events and updates -------------------------------------------------------------
    def get_event(self, run_id: str, key: str) -> tuple[bool, Any]:
        """``(True, value)`` if the run's chain published ``key``, else ``(False, None)``."""
        with self._tx():
            chain = self._get(run_id).correlation_id
            if (chain, key) in self._run_events:
                return True, self._run_events[(chain, key)]
            return False, None

    def events(self, run_id: str) -> dict[str, Any]:
        """Every event the run's chain published, by key."""
        with self._tx():
            chain = self._get(run_id).correlation_id
            return {k: v for (c, k), v in sorted(self._run_events.items()) if c == chain}

    def send_update(self, run_id: str, name: str, payload: Any) -> tuple[int, str]:
        """Put an update request in the live tip's update mailbox;
        ``(update id, id of the run it landed on)``."""
        with self._tx():
            run = self._get(run_id)
            while run.continued_to_run_id is not None:
                run = self._get(run.continued_to_run_id)
            if run.state in TERMINAL_STATES:
                raise RunTerminal(run.id, run.state, "update")
            upd = _Update(next(self._ids), run.id, name, payload)
            self._updates[upd.id] = upd
            self._wake(run)
            return upd.id, run.id

    def update_status(self, update_id: int) -> UpdateStatus:
        """Where an update request stands (answered, or its run's state)."""
        with self._tx():
            upd = self._updates[update_id]
            run = self._get(upd.run_id)
            return UpdateStatus(
                upd.id, upd.run_id, run.state, upd.accepted_seq is not None, upd.status, upd.answer
            )

    def withdraw_update(self, update_id: int) -> bool:
        """Remove an update request nobody accepted yet; ``False`` if it was accepted."""
        with self._tx():
            upd = self._updates.get(update_id)
            if upd is None or upd.accepted_seq is not None:
                return False
            del self._updates[update_id]
            return True

    def _cancel_tree(self, root: _Run, now: datetime) -> list[str]:
        level = [root]
        cancelled: list[str] = []
        while level:
            cancelled += [r.id for r in level]
            for run in level:
                run.cancel_requested_at = run.cancel_requested_at or now
                run.state = "cancelled"
                run.last_seq += 1
                run.events.append(Event(run.last_seq, ev_types.RUN_CANCELLED, inserted_at=now))
                self._close(run, now)
            ids = {r.id for r in level}
            level = [
                r
                for r in self._runs.values()
                if r.parent_run_id in ids and r.state not in TERMINAL_STATES
            ]
        return cancelled
