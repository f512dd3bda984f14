"""Sticky runs: a worker keeps the runs it just advanced parked in memory.

A cold activation loads the whole history and replays the workflow function from its
first line up to the wait where it stops; a long sequential run pays that on every
step, so its cost per step grows with its history. A sticky worker instead runs each
workflow on a thread of its own and, at a wait, *parks* it there
(:meth:`continuum.engine.context.RunContext.block`): the activation's result is
committed as usual, and the thread sleeps at the wait. The next activation of that run
on this worker hands the parked workflow the new input (finished tasks, signals, the
clock — never the history again) and it continues from where it stopped.

The cold path stays the reference: a parked run is used only when nothing can have
changed its history since it parked —

- it is the run's own entry (same run id, same workflow version, same incarnation
  (``ActivationInput.generation``: a run restarted under its id is a new one), and the
  run's journal still ends at the seq the parked run reached (every activation that
  changes what replay would see appends events, so another worker's activation in
  between would have moved it);
- the activation that parked it committed (a fenced or failed commit drops it).

Otherwise — evicted (LRU, by count and by an estimate of bytes), a lease lost, a
version changed, an error anywhere — the run takes the cold path: load + replay.
Evicting a parked run raises the engine's suspend at its wait on its own thread, so
the workflow unwinds exactly as a cold activation's suspend would (its ``finally``
blocks journal nothing).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import timedelta
from queue import SimpleQueue
from typing import Any

from continuum.definitions.workflow import Workflow
from continuum.engine.activation import activate
from continuum.engine.context import current_context_or_none
from continuum.engine.control import Suspend
from continuum.engine.types import (
    ActivationHost,
    ActivationInput,
    ActivationResult,
    LocalOutcome,
    Outcome,
)

_log = logging.getLogger("continuum.runtime.sticky")

DEFAULT_MAX_RUNS = 256
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_EVICTED = "evicted from the sticky cache"
LOCAL_IN_TRANSACTION = "a local activity, not run inside a one-transaction step"
"""How a parked run resumed inside a transaction (:mod:`continuum.runtime.fused`) ends
when it reaches a ``local=True`` activity: the step is abandoned (nothing of it is
written) and the run is activated again the ordinary way, where the activity runs with
no transaction open (a long one would hold the run's row lock, or outlive the session's
``idle_in_transaction_session_timeout`` and run twice)."""
_BASE_BYTES = 64 * 1024  # a parked thread's stack and the replay state, roughly
SETTLE_WAIT_S = 5.0
"""How long taking a parked run waits for the commit of the activation that parked it."""
_EVENT_BYTES = 512  # one event held in memory (decoded), roughly


@dataclass(slots=True)
class _Reply:
    done: bool  # the workflow thread ended (the result is final)
    result: ActivationResult | None = None
    error: BaseException | None = None  # KeyboardInterrupt / SystemExit / ActivationAborted


class ParkedRun:
    """One workflow function running on its own thread, parked at its current wait."""

    def __init__(
        self,
        flow: Workflow[Any, Any],
        inp: ActivationInput,
        host: ActivationHost | None,
        *,
        keep_history: bool = False,
    ) -> None:
        self.flow = flow
        self.run_id = inp.run_id
        self.version_hash = inp.version_hash
        self.generation = inp.generation
        self.last_seq = inp.last_seq
        # The history as replay holds it, for snapshots (only when the workflow takes
        # them): the loaded events, then every event this run committed since.
        self.keep_history = keep_history
        self.history = list(inp.events) if keep_history else []
        self.snapshot_seq = inp.snapshot_seq
        self.bytes = _BASE_BYTES + _EVENT_BYTES * len(inp.events)
        self.ended = False
        self._settled = threading.Event()
        self._committed = False
        self._host = _Guarded(host, self) if host is not None else None
        self.in_transaction = False  # resumed inside a fused step: no local activities
        self.refused_local = False  # ... and one was reached: the step is abandoned
        self._inbox: SimpleQueue[ActivationInput | None] = SimpleQueue()
        self._outbox: SimpleQueue[_Reply] = SimpleQueue()
        self._first = inp

    # -- the caller's side ----------------------------------------------------------
    def start(self) -> ActivationResult:
        """Run the first (cold) activation on a new thread; returns its result."""
        thread = threading.Thread(
            target=self._main, name=f"continuum-sticky:{self.run_id}", daemon=True
        )
        thread.start()
        return self._wait()

    def resume(self, inp: ActivationInput, *, in_transaction: bool = False) -> ActivationResult:
        """Continue the parked workflow with the next activation's input.

        ``in_transaction``: the caller holds a transaction open meanwhile; reaching a
        local activity then ends the run's parking (:data:`LOCAL_IN_TRANSACTION`)."""
        self.in_transaction = in_transaction
        self._inbox.put(inp)
        try:
            return self._wait()
        finally:
            self.in_transaction = False

    def advance(self, result: ActivationResult) -> None:
        """Stand where ``result`` leaves the run, pending its commit (:meth:`settle`)."""
        self._settled.clear()
        self._committed = False
        if result.new_events:
            self.last_seq = result.new_events[-1].seq
            if self.keep_history:
                self.history.extend(result.new_events)
            # The replay state grows with the history too (its resolutions), if slower.
            self.bytes += _EVENT_BYTES * len(result.new_events)

    def settle(self, committed: bool) -> None:
        """Whether the activation that parked the run committed (only then is it usable)."""
        self._committed = committed
        self._settled.set()

    def usable(self, timeout: float = SETTLE_WAIT_S) -> bool:
        """Wait for the parking activation's commit to settle; ``True`` if it committed."""
        return self._settled.wait(timeout) and self._committed and not self.ended

    def history_input(self, inp: ActivationInput, result: ActivationResult) -> ActivationInput:
        """``inp`` with the history before ``result`` (what a cold load would have read)."""
        before = self.history[: len(self.history) - len(result.new_events)]
        return replace(inp, events=before, snapshot_seq=self.snapshot_seq)

    def close(self) -> None:
        """Evict: the parked workflow unwinds on its own thread; nothing is written."""
        if not self.ended:
            self.ended = True
            self._inbox.put(None)

    def _wait(self) -> ActivationResult:
        reply = self._outbox.get()
        if reply.done:
            self.ended = True
        if reply.error is not None:
            raise reply.error
        assert reply.result is not None
        return reply.result

    # -- the workflow thread's side -------------------------------------------------
    def park(self, result: ActivationResult) -> ActivationInput:
        """Called by the engine at a live wait (``RunContext.block``)."""
        self._outbox.put(_Reply(False, result))
        inp = self._inbox.get()
        if inp is None:
            raise Suspend(_EVICTED)
        return inp

    def _main(self) -> None:
        inp, self._first = self._first, None  # type: ignore[assignment]
        try:
            result = activate(self.flow, inp, self._host, parker=self)
        except BaseException as exc:  # SystemExit/KeyboardInterrupt: the caller re-raises
            self._outbox.put(_Reply(True, error=exc))
            return
        outcome = result.outcome
        if outcome.kind == "suspended" and outcome.waiting_on == _EVICTED:
            return  # nobody waits for an evicted run
        self._outbox.put(_Reply(True, result))


class StickyCache:
    """A worker's parked runs, by run id; least recently used evicted first."""

    def __init__(self, max_runs: int = DEFAULT_MAX_RUNS, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_runs = max_runs
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._runs: OrderedDict[str, ParkedRun] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    @property
    def enabled(self) -> bool:
        """Whether runs are kept at all (``max_runs`` 0 turns sticky execution off)."""
        return self.max_runs > 0

    def take(self, run_id: str) -> ParkedRun | None:
        """Remove and return the parked run of ``run_id``, if any (the caller owns it)."""
        with self._lock:
            parked = self._runs.pop(run_id, None)
            if parked is not None:
                self._bytes -= parked.bytes
        if parked is not None and not parked.usable():
            parked.close()
            return None
        return parked

    def known_seq(self, run_id: str) -> tuple[int, Any] | None:
        """``(last seq, generation)`` of the parked run of ``run_id``: what a load may skip."""
        with self._lock:
            parked = self._runs.get(run_id)
            return None if parked is None else (parked.last_seq, parked.generation)

    def put(self, parked: ParkedRun) -> None:
        """Keep ``parked`` (its last activation committed); evict beyond the bounds."""
        evicted: list[ParkedRun] = []
        with self._lock:
            old = self._runs.pop(parked.run_id, None)
            if old is not None:
                self._bytes -= old.bytes
                evicted.append(old)
            self._runs[parked.run_id] = parked
            self._bytes += parked.bytes
            while self._runs and (len(self._runs) > self.max_runs or self._bytes > self.max_bytes):
                _, victim = self._runs.popitem(last=False)
                self._bytes -= victim.bytes
                evicted.append(victim)
                self.evictions += 1
        for victim in evicted:
            if victim is not parked:
                victim.close()

    def clear(self) -> None:
        """Evict everything (the worker stops)."""
        with self._lock:
            runs = list(self._runs.values())
            self._runs.clear()
            self._bytes = 0
        for parked in runs:
            parked.close()

    def stats(self) -> dict[str, int]:
        """Hits, misses, evictions, and what is parked now."""
        with self._lock:
            return {
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
                "parked": len(self._runs),
                "bytes": self._bytes,
            }


class _Guarded:
    """The activation host of a parked run: refuses local activities inside a fused step."""

    def __init__(self, host: ActivationHost, parked: ParkedRun) -> None:
        self.host = host
        self.parked = parked

    def run_local_activity(
        self,
        activity: str,
        args: dict[str, Any],
        *,
        idempotency_key: str | None,
        max_attempts: int | None,
        timeout: timedelta | None,
    ) -> LocalOutcome:
        if self.parked.in_transaction:
            self.parked.refused_local = True
            stop = Suspend(LOCAL_IN_TRANSACTION)
            ctx = current_context_or_none()
            if ctx is not None:
                ctx.suspended = stop  # effects in `finally:` unwind too, as on a suspend
            raise stop
        return self.host.run_local_activity(
            activity,
            args,
            idempotency_key=idempotency_key,
            max_attempts=max_attempts,
            timeout=timeout,
        )


def resumable(parked: ParkedRun, flow: Workflow[Any, Any], inp: ActivationInput) -> bool:
    """Whether ``inp`` continues exactly where ``parked`` stopped (see the module doc)."""
    return (
        parked.usable(0)
        and parked.flow is flow
        and parked.version_hash == inp.version_hash
        and parked.generation == inp.generation
        and parked.last_seq == inp.last_seq
        and not any(e.seq > parked.last_seq for e in inp.events)
    )


def hard_cancelled(inp: ActivationInput) -> ActivationResult | None:
    """The result of an activation that cancels at once (as ``activate`` decides it)."""
    if inp.cancel_requested and (inp.cancel_deadline is None or inp.cancel_deadline <= inp.now):
        return ActivationResult(outcome=Outcome("cancelled"))
    return None
