"""The replay cursor: matches each effect against the journal, or records it live.

One :class:`RunContext` exists per activation. The workflow function runs inside it
(found through a context variable); every effect asks it for the next journaled
command. Command events are matched strictly in order; resolutions are found by the
seq of the command they resolve, so concurrent activities may finish in any order.
Replay is linear in history length: one pass to index, one cursor step per effect.
"""

from __future__ import annotations

import dis
import sys
from collections import deque
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from datetime import datetime
from types import CodeType, FrameType
from typing import Any, NoReturn, Protocol, cast

from continuum.current_run import RUN_CONTEXT
from continuum.engine import events as ev_types
from continuum.engine.control import Suspend
from continuum.engine.events import TERMINAL_EVENTS, CommandKey, Event, describe_command
from continuum.engine.types import (
    ActivationHost,
    ActivationInput,
    ActivationResult,
    ChildOutcome,
    MailboxSignal,
    MailboxUpdate,
    Outcome,
    TaskOutcome,
)
from continuum.errors import Cancelled, ReplayDriftError, SuspendLeakError, WorkflowContextError


class Parker(Protocol):
    """Where a sticky activation parks its workflow (see :mod:`continuum.runtime.sticky`)."""

    def park(self, result: ActivationResult) -> ActivationInput:
        """Hand ``result`` (a suspended activation) over and block until resumed; the
        next activation's input comes back. Raises :class:`Suspend` to evict the run."""
        ...


Site = tuple[str, int, str, int]
"""``(qualname, line offset in function, file, absolute line)`` of a call site."""

_CURRENT = cast("ContextVar[RunContext | None]", RUN_CONTEXT)

_ENGINE_PREFIX = "continuum."
_USER_CODE_PREFIX = "continuum.examples."  # shipped examples are user code, not the engine
_COMPREHENSIONS = frozenset({"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"})


def _is_engine(module: str) -> bool:
    return module.startswith(_ENGINE_PREFIX) and not module.startswith(_USER_CODE_PREFIX)


def call_site() -> Site:
    """The user-code call site of the effect being issued.

    Frames inside the ``continuum`` package are skipped, so helpers like
    ``compensate_all`` attribute their effects to the user's line. The line number in
    the identity is relative to the function's first line: editing code *outside*
    the function does not change the identity of its effects.
    """
    frame: FrameType | None = sys._getframe(2)
    while frame is not None and _is_engine(frame.f_globals.get("__name__", "")):
        frame = frame.f_back
    if frame is None:  # pragma: no cover - only reachable from engine-internal calls
        return ("<engine>", 0, "<engine>", 0)
    code = frame.f_code
    line = frame.f_lineno
    if code.co_name not in _COMPREHENSIONS:
        return (code.co_qualname, line - code.co_firstlineno, code.co_filename, line)
    # Python 3.11 runs comprehensions in their own frame, 3.12+ inlines them (PEP 709):
    # attribute the effect to the enclosing function so identities match on both.
    qualname = code.co_qualname
    while qualname.rsplit(".", 1)[-1] in _COMPREHENSIONS:
        qualname = qualname.rsplit(".<locals>.", 1)[0]
    outer = frame.f_back
    while outer is not None and outer.f_code.co_qualname != qualname:
        outer = outer.f_back
    first = outer.f_code.co_firstlineno if outer is not None else code.co_firstlineno
    return (qualname, line - first, code.co_filename, line)


_TRY_RANGES: dict[CodeType, tuple[tuple[int, int], ...]] = {}


def _try_ranges(code: CodeType) -> tuple[tuple[int, int], ...]:
    ranges = _TRY_RANGES.get(code)
    if ranges is None:
        entries = getattr(dis.Bytecode(code), "exception_entries", None)
        # Without an exception table (not CPython 3.11+) every wait counts as guarded.
        ranges = ((0, 1 << 30),) if entries is None else tuple((e.start, e.end) for e in entries)
        _TRY_RANGES[code] = ranges
    return ranges


def _inside_user_handler(frame: FrameType | None) -> bool:
    """Whether workflow code on the stack is inside a ``try`` (or ``with``) block.

    There, a cold suspend could be caught — and a workflow that swallows it must fail
    with :class:`SuspendLeakError` — so a sticky activation does not park such a wait
    but suspends the cold way (the run is replayed next time: slower, never different).
    """
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module == "continuum.engine.activation":
            return False  # reached the engine's entry: the workflow function is above
        if not _is_engine(module):
            lasti = frame.f_lasti
            if any(start <= lasti < end for start, end in _try_ranges(frame.f_code)):
                return True
        frame = frame.f_back
    return False


def current_context() -> RunContext:
    """The running workflow's context, or a clear error outside workflows."""
    ctx = _CURRENT.get()
    if ctx is None:
        raise WorkflowContextError(
            "this continuum function only works inside a running workflow; "
            "outside workflows use continuum.Client or continuum.testing"
        )
    return ctx


def current_context_or_none() -> RunContext | None:
    """The running workflow's context, if any."""
    return _CURRENT.get()


class RunContext:
    """Replay state of one activation. Engine-internal; workflows use ``continuum.*``."""

    def __init__(self, inp: ActivationInput, host: ActivationHost | None, workflow: str) -> None:
        self.inp = inp
        self.host = host
        self.run_id = inp.run_id
        self.workflow = workflow
        self.now: datetime = inp.now
        self.result = ActivationResult(outcome=Outcome("suspended"))
        self.last_seq = inp.last_seq
        self.commands: list[Event] = []
        self.resolutions: dict[int, Event] = {}
        self.answered_updates: set[int] = set()
        # Seq of a journaled cooperative-cancel delivery that replay has not reached yet.
        self.cancel_marker: int | None = None
        for ev in inp.events:
            if ev.ref_seq is not None:
                self.resolutions[ev.ref_seq] = ev
            elif ev.key is not None:
                self.commands.append(ev)
                if ev.type in (ev_types.UPDATE_REPLIED, ev_types.UPDATE_REJECTED):
                    self.answered_updates.add(int(ev.data.get("update_id", 0)))
            elif ev.type == ev_types.CANCEL_DELIVERED and self.cancel_marker is None:
                self.cancel_marker = ev.seq
        self.n_commands = len(self.commands)
        # Re-executing a finished run (golden files, paranoid checks, compatibility
        # checks) is replay all the way to the end, past its last command too.
        self.finished_history = bool(inp.events) and inp.events[-1].type in TERMINAL_EVENTS
        self.cursor = 0
        self.ordinals: dict[tuple[str, str, int], int] = {}
        self.finished_tasks: dict[int, TaskOutcome] = inp.finished_tasks
        self.finished_children: dict[str, ChildOutcome] = inp.finished_children
        self.mailbox: dict[str, deque[MailboxSignal]] = {}
        for sig in inp.signals:
            self.mailbox.setdefault(sig.name, deque()).append(sig)
        self.update_box: dict[str, deque[MailboxUpdate]] = {}
        for upd in inp.updates:
            self.update_box.setdefault(upd.name, deque()).append(upd)
        # A cooperative cancel this activation may deliver: requested, still within its
        # grace, and not delivered in an earlier activation.
        self.cancel_live = (
            inp.cancel_requested and inp.cancel_deadline is not None and self.cancel_marker is None
        )
        self.cancel_delivered = False
        self.suspended: Suspend | None = None
        self.fatal: BaseException | None = None
        self.pending_compensations: list[Any] = []  # ActivityRef, most recent last
        self.token = None
        # Sticky execution: the workflow parks at a wait instead of unwinding (block()).
        self.parker: Parker | None = None

    # -- activation scope -------------------------------------------------------------
    def __enter__(self) -> RunContext:
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, *exc: object) -> None:
        _CURRENT.reset(self._token)

    @property
    def replaying(self) -> bool:
        """Whether the code is re-executing recorded history (not running live)."""
        return self.cursor < self.n_commands or self.finished_history

    # -- the two primitives every effect is built from ------------------------------
    def command(self, kind: str, target: str, site: Site) -> tuple[Event | None, CommandKey]:
        """Match the next journaled command, or return ``None`` when running live."""
        self.check_alive()
        qualname, lineno, file, line = site
        okey = (kind, qualname, lineno)
        ordinal = self.ordinals.get(okey, 0)
        self.ordinals[okey] = ordinal + 1
        key: CommandKey = (kind, qualname, lineno, ordinal, target)
        if self.cursor < self.n_commands:
            ev = self.commands[self.cursor]
            if ev.key != key:
                self.drift(ev, key, file, line)
            self.cursor += 1
            return ev, key
        return None, key

    def peek(self, key: CommandKey) -> bool:
        """Whether the next journaled command has exactly ``key`` (used by ``patched``)."""
        return self.cursor < self.n_commands and self.commands[self.cursor].key == key

    def consume(self) -> Event:
        """Step past the command :meth:`peek` matched."""
        ev = self.commands[self.cursor]
        self.cursor += 1
        return ev

    def record(
        self,
        type: str,
        data: dict[str, Any],
        *,
        key: CommandKey | None = None,
        site: Site | None = None,
        ref_seq: int | None = None,
    ) -> Event:
        """Append a new event to this activation's journal batch."""
        self.last_seq += 1
        command = None
        if key is not None:
            command = {
                "kind": key[0],
                "workflow": self.workflow,
                "qualname": key[1],
                "lineno": key[2],
                "ordinal": key[3],
                "target": key[4],
                "file": site[2] if site else "?",
                "line": site[3] if site else 0,
            }
        ev = Event(self.last_seq, type, command=command, ref_seq=ref_seq, data=data)
        self.result.new_events.append(ev)
        if ref_seq is not None:
            self.resolutions[ref_seq] = ev
        return ev

    def suspend(self, waiting_on: str) -> NoReturn:
        """Block the workflow: nothing it waits for has happened yet.

        A cooperative cancel requested for this run is delivered here instead (once):
        the delivery is journaled, and :class:`Cancelled` raised at this wait.
        """
        if self.cancel_live and not self.replaying and self.suspended is None:
            self.cancel_live = False
            marker = self.record(ev_types.CANCEL_DELIVERED, {"waiting_on": waiting_on})
            self.cancel_marker = marker.seq
            self.deliver_cancel()
        exc = Suspend(waiting_on)
        self.suspended = exc
        raise exc

    def block(self, waiting_on: str) -> None:
        """Wait for something that has not happened yet; the caller checks again after.

        Cold path (the reference): :meth:`suspend` — the activation ends, and the next
        one replays the history up to this wait. Sticky path (a ``parker`` is set, the
        code runs live): the activation's result is handed to the parker and this call
        returns, with the next activation's input applied, when the run is resumed; the
        caller then re-checks exactly what replay would have checked.
        """
        if (
            self.parker is None
            or self.replaying
            or self.suspended is not None
            or _inside_user_handler(sys._getframe(1))
        ):
            self.suspend(waiting_on)
        self.check_alive()
        if self.cancel_live:
            self.cancel_live = False
            marker = self.record(ev_types.CANCEL_DELIVERED, {"waiting_on": waiting_on})
            self.cancel_marker = marker.seq
            self.deliver_cancel()
        self.result.outcome = Outcome("suspended", waiting_on=waiting_on)
        try:
            inp = self.parker.park(self.result)
        except Suspend as exc:  # evicted: unwind exactly as a cold suspend would
            self.suspended = exc
            raise
        self.resume(inp)

    def resume(self, inp: ActivationInput) -> None:
        """Apply the next activation's input to a parked run (history already current)."""
        self.inp = inp
        self.now = inp.now
        self.result = ActivationResult(outcome=Outcome("suspended"))
        self.finished_tasks = inp.finished_tasks
        self.finished_children = inp.finished_children
        self.mailbox = {}
        for sig in inp.signals:
            self.mailbox.setdefault(sig.name, deque()).append(sig)
        self.update_box = {}
        for upd in inp.updates:
            self.update_box.setdefault(upd.name, deque()).append(upd)
        self.cancel_live = (
            inp.cancel_requested and inp.cancel_deadline is not None and self.cancel_marker is None
        )

    def journaled(self, seq: int) -> Event | None:
        """The journaled resolution of the wait command at ``seq``, or ``None``.

        While replay has not yet reached a journaled cancel delivery, a wait whose
        resolution is missing (or was journaled only after the delivery) is the wait the
        cancel interrupted: :class:`Cancelled` is raised again, before any live data
        (a fired timer, a finished task, a new signal) could resolve it differently.
        """
        res = self.resolutions.get(seq)
        marker = self.cancel_marker
        if marker is not None and not self.cancel_delivered and (res is None or res.seq > marker):
            self.deliver_cancel()
        return res

    def deliver_cancel(self) -> NoReturn:
        """Raise :class:`Cancelled` into the workflow (live or on replay)."""
        self.cancel_delivered = True
        raise Cancelled(
            f"run {self.run_id} was cancelled (Client.cancel with grace); clean up in "
            "`except continuum.Cancelled:` or `finally:`, then return or re-raise",
            run_id=self.run_id,
        )

    def check_alive(self) -> None:
        """Refuse to continue once a suspend was swallowed or drift was found."""
        if self.fatal is not None:
            raise self.fatal
        if self.suspended is not None:
            if sys.exc_info()[1] is self.suspended:
                # Reached while the suspend unwinds the stack (a `finally:`, or a handler
                # that will re-raise): this effect suspends too and journals nothing. It
                # runs for real when the run later completes or fails normally.
                raise self.suspended
            err = SuspendLeakError(
                f"run {self.run_id}: workflow code caught the engine's suspend "
                f"(while waiting on {self.suspended.waiting_on}) and kept running; remove the "
                "bare `except:` / `except BaseException:` around continuum calls, or re-raise"
            )
            self.fatal = err
            raise err

    def drift(self, ev: Event, key: CommandKey, file: str, line: int) -> NoReturn:
        """Raise :class:`ReplayDriftError` for a command that does not match the journal."""
        actual = {
            "kind": key[0],
            "qualname": key[1],
            "lineno": key[2],
            "ordinal": key[3],
            "target": key[4],
            "file": file,
            "line": line,
        }
        self.raise_drift(ev.seq, describe_command(ev.command), describe_command(actual))

    def raise_drift(self, seq: int | None, expected: str, actual: str) -> NoReturn:
        """Record and raise a drift error (it fails the run even if user code catches it)."""
        err = ReplayDriftError(
            f"replay drift in run {self.run_id} at event seq {seq}: the journal recorded "
            f"{expected}, but the code now issues {actual}. Keep the old code for runs that "
            "started on it (continuum build), or guard the change with continuum.patched(...)",
            run_id=self.run_id,
            seq=seq,
            expected=expected,
            actual=actual,
        )
        self.fatal = err
        raise err

    # -- mailbox ------------------------------------------------------------------
    def take_signal(self, name: str | Sequence[str]) -> MailboxSignal | None:
        """The oldest undelivered signal called ``name`` (or any of several names, in
        arrival order), removed from the mailbox."""
        names = [name] if isinstance(name, str) else list(name)
        best: deque[MailboxSignal] | None = None
        for n in names:
            queue = self.mailbox.get(n)
            if queue and (best is None or queue[0].id < best[0].id):
                best = queue
        return best.popleft() if best is not None else None

    def take_update(self, name: str) -> MailboxUpdate | None:
        """The oldest update request called ``name`` not yet accepted, removed."""
        queue = self.update_box.get(name)
        if queue:
            return queue.popleft()
        return None

    def emit(self, event: str, meta: dict[str, Any]) -> None:
        """Queue a telemetry event; the runtime emits it after the commit succeeds."""
        if not self.replaying:
            self.result.telemetry.append((event, meta))


def run_in_context(ctx: RunContext, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` with ``ctx`` as the current workflow context."""
    with ctx:
        return fn()
