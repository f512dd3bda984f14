"""The workflow-side API: timers, signals, journaled values, patches, continue-as-new.

Every function here must be called from inside a running workflow. Each call is an
effect with a command identity fixed at its call site; see :mod:`continuum.engine.context`.
"""

from __future__ import annotations

import contextlib
import random as _random
import uuid as _uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NoReturn, TypeVar, get_type_hints

from continuum import payloads
from continuum.engine import events as ev_types
from continuum.engine.context import RunContext, Site, call_site, current_context
from continuum.engine.control import ContinueAsNew
from continuum.engine.types import TimerSpec
from continuum.errors import PayloadError, SignalTimeout
from continuum.validation import check_name

T = TypeVar("T")


def _fire_at(ev: Any) -> datetime | None:
    raw = ev.data.get("fire_at") or ev.data.get("timeout_at")
    return datetime.fromisoformat(raw) if raw else None


def sleep(duration: timedelta | float) -> None:
    """Durable timer: the run is suspended (and may move to another worker) until it fires."""
    ctx = current_context()
    site = call_site()
    ev, key = ctx.command("timer", "", site)
    if ev is None:
        delta = duration if isinstance(duration, timedelta) else timedelta(seconds=duration)
        fire_at = ctx.now + delta
        ev = ctx.record(
            ev_types.TIMER_STARTED, {"fire_at": fire_at.isoformat()}, key=key, site=site
        )
        ctx.result.new_timers.append(TimerSpec(ev.seq, fire_at))
    while True:  # block() returns only on the sticky path, with newer input
        if ctx.journaled(ev.seq) is not None:
            return
        due = _fire_at(ev)
        if due is not None and due <= ctx.now:
            ctx.record(ev_types.TIMER_FIRED, {}, ref_seq=ev.seq)
            ctx.result.fired_timers.append(ev.seq)
            ctx.emit("timer.fired", {"seq": ev.seq})
            return
        ctx.block(f"timer until {ev.data.get('fire_at')}")


def _received(ctx: RunContext, name: str, payload: Any, type: Any) -> Any:
    return payloads.decode(payload, type, what=f"payload of signal {name!r}")


def _signal_names(name: str | Sequence[str]) -> list[str]:
    names = [name] if isinstance(name, str) else list(name)
    if not names:
        raise PayloadError("wait_signal needs a signal name or a non-empty list of names")
    for n in names:
        check_name(n, what="the signal name", operation="continuum.wait_signal")
    return names


def wait_signal(
    name: str | Sequence[str], timeout: timedelta | float | None = None, *, type: Any = None
) -> Any:
    """Wait for the next signal called ``name`` and return its payload.

    Signals wait in the run's durable mailbox until a matching ``wait_signal`` takes
    them, oldest first, so a signal sent before the wait is not lost. With ``timeout``
    the wait raises :class:`SignalTimeout` once the journaled deadline passes.
    ``type=`` decodes the payload (e.g. to a pydantic model).

    With a list of names (``wait_signal(["approve", "deny"])``) it returns
    ``(name, payload)`` for whichever arrives first; buffered ones in arrival order.
    """
    many = not isinstance(name, str)
    names = _signal_names(name)
    target = "|".join(names)
    ctx = current_context()
    site = call_site()
    ev, key = ctx.command("signal", target, site)
    got: Any = None
    if ev is None:
        sig = ctx.take_signal(names)
        if sig is not None:
            # Fast path: the signal is already here, so no wait and no timer are journaled.
            got = ctx.record(
                ev_types.SIGNAL_RECEIVED,
                {"name": sig.name, "payload": sig.payload, "signal_id": sig.id},
                key=key,
                site=site,
            )
            ctx.result.consumed_signals.append((sig.id, got.seq))
            ctx.emit("signal.received", {"signal": sig.name})
        else:
            data: dict[str, Any] = {"name": target, "timeout_at": None}
            if timeout is not None:
                delta = timeout if isinstance(timeout, timedelta) else timedelta(seconds=timeout)
                data["timeout_at"] = (ctx.now + delta).isoformat()
            ev = ctx.record(ev_types.SIGNAL_AWAITED, data, key=key, site=site)
            if data["timeout_at"] is not None:
                ctx.result.new_timers.append(TimerSpec(ev.seq, ctx.now + delta))
    elif ev.type == ev_types.SIGNAL_RECEIVED:
        got = ev
    if got is None:
        assert ev is not None
        got = _await_signal(ctx, ev, names, target)
    received = str(got.data.get("name", target))
    value = _received(ctx, received, got.data.get("payload"), type)
    return (received, value) if many else value


def _await_signal(ctx: RunContext, ev: Any, names: list[str], target: str) -> Any:
    """The resolution of the journaled wait ``ev``: a signal, or SignalTimeout."""
    res = ctx.journaled(ev.seq)
    while res is None:  # block() returns only on the sticky path, with newer input
        deadline = _fire_at(ev)
        sig = ctx.take_signal(names)
        if sig is not None:
            res = ctx.record(
                ev_types.SIGNAL_RECEIVED,
                {"name": sig.name, "payload": sig.payload, "signal_id": sig.id},
                ref_seq=ev.seq,
            )
            ctx.result.consumed_signals.append((sig.id, res.seq))
            ctx.emit("signal.received", {"signal": sig.name})
            if deadline is not None:
                ctx.result.fired_timers.append(ev.seq)
        elif deadline is not None and deadline <= ctx.now:
            res = ctx.record(ev_types.SIGNAL_TIMED_OUT, {"name": target}, ref_seq=ev.seq)
            ctx.result.fired_timers.append(ev.seq)
            ctx.emit("signal.timed_out", {"signal": target})
        else:
            ctx.block(f"signal {target!r}")
            res = ctx.journaled(ev.seq)
    if res.type == ev_types.SIGNAL_TIMED_OUT:
        raise SignalTimeout(
            f"signal {target!r} did not arrive before its timeout "
            f"({ev.data.get('timeout_at')}) in run {ctx.run_id}",
            signal=target,
        )
    return res


def _value(kind: str, target: str, produce: Callable[[], Any], annotation: Any, site: Site) -> Any:
    ctx = current_context()
    ev, key = ctx.command(kind, target, site)
    if ev is None:
        encoded = payloads.encode(produce(), what=f"value of {kind}")
        ev = ctx.record(ev_types.SIDE_EFFECT, {"value": encoded}, key=key, site=site)
    # Live and replayed calls both return the decoded JSON, so they cannot differ.
    return payloads.decode(ev.data.get("value"), annotation, what=f"journaled {kind}")


def now() -> datetime:
    """The current time (UTC, timezone-aware), journaled on first execution."""
    ctx = current_context()
    return _value("now", "", lambda: ctx.now, datetime, call_site())  # type: ignore[no-any-return]


def today() -> date:
    """Today's date (UTC), journaled on first execution."""
    ctx = current_context()
    return _value("today", "", lambda: ctx.now.date(), date, call_site())  # type: ignore[no-any-return]


def uuid4() -> _uuid.UUID:
    """A random UUID, journaled on first execution."""
    return _value("uuid4", "", _uuid.uuid4, _uuid.UUID, call_site())  # type: ignore[no-any-return]


def random() -> float:
    """A random float in [0, 1), journaled on first execution."""
    return _value("random", "", _random.random, float, call_site())  # type: ignore[no-any-return]


_HINTS: dict[object, Any] = {}


def _return_hint(fn: Callable[[], Any]) -> Any:
    code = getattr(fn, "__code__", fn)
    try:
        return _HINTS[code]
    except (KeyError, TypeError):
        pass
    try:
        hint = get_type_hints(fn).get("return", Any)
    except Exception:  # builtins, unresolvable forward refs
        hint = Any
    with contextlib.suppress(TypeError):  # unhashable callables are simply not cached
        _HINTS[code] = hint
    return hint


def side_effect(fn: Callable[[], T]) -> T:
    """Run ``fn`` once and journal its JSON result; replays return the journaled value.

    The identity is the call site, not the function, so refactoring ``fn`` does not
    break runs in flight. ``fn`` runs again if the worker crashes before the result is
    committed: keep it free of effects you could not repeat.
    """
    hint = _return_hint(fn)
    name = getattr(fn, "__qualname__", "")
    target = "" if name == "<lambda>" else name
    return _value("side_effect", target, fn, hint, call_site())  # type: ignore[no-any-return]


def patched(patch_id: str) -> bool:
    """``True`` for runs that reach this line on new code; ``False`` for older histories.

    New runs journal a marker, so the answer replays. A history recorded before the
    patch existed returns ``False`` without consuming an event.
    """
    ctx = current_context()
    site = call_site()
    ctx.check_alive()
    qualname, lineno, _, _ = site
    okey = ("patched", qualname, lineno)
    ordinal = ctx.ordinals.get(okey, 0)
    ctx.ordinals[okey] = ordinal + 1
    key = ("patched", qualname, lineno, ordinal, patch_id)
    if ctx.peek(key):
        ctx.consume()
        return True
    if ctx.replaying:
        return False
    ctx.record(ev_types.PATCHED, {"patch_id": patch_id, "value": True}, key=key, site=site)
    ctx.emit("patched.hit", {"patch_id": patch_id})
    return True


def continue_as_new(input: Any) -> NoReturn:
    """End this run and start a successor with ``input`` and an empty history."""
    ctx = current_context()
    site = call_site()
    encoded = payloads.encode(input, what="continue_as_new input")
    ev, key = ctx.command("continue_as_new", ctx.workflow, site)
    if ev is None:
        ev = ctx.record(
            ev_types.RUN_CONTINUED_AS_NEW,
            {"input": encoded, "input_hash": payloads.digest(encoded)},
            key=key,
            site=site,
        )
    raise ContinueAsNew(encoded, ev.seq)
