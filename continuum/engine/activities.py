"""Activities from the workflow side: ``execute``, ``start_activity``, ``gather``.

Compensation activities (sagas) share this path with ``kind="compensation"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar, overload

from continuum.definitions.activity import Activity, check_max_attempts
from continuum.durations import to_ms
from continuum.engine import events as ev_types
from continuum.engine.context import RunContext, Site, call_site, current_context
from continuum.engine.types import TaskSpec
from continuum.errors import ActivityFailed

R = TypeVar("R")

_SCHEDULED = {
    "activity": ev_types.ACTIVITY_SCHEDULED,
    "compensation": ev_types.COMPENSATION_SCHEDULED,
}
_COMPLETED = {
    "activity": ev_types.ACTIVITY_COMPLETED,
    "compensation": ev_types.COMPENSATION_COMPLETED,
}
_FAILED = {"activity": ev_types.ACTIVITY_FAILED, "compensation": ev_types.COMPENSATION_FAILED}


@dataclass(frozen=True)
class Compensation:
    """An undo step bound to its arguments: ``continuum.compensation(refund, order_id)``."""

    activity: Activity[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


def compensation(act: Activity[..., Any], *args: Any, **kwargs: Any) -> Compensation:
    """Bind a compensation activity to the arguments it will be called with."""
    return Compensation(act, args, kwargs)


@dataclass
class ActivityRef(Generic[R]):
    """A completed activity that carries its compensation. ``ref.result`` is the value."""

    result: R
    seq: int
    compensation: Compensation | None = None


@dataclass(frozen=True)
class ActivityHandle(Generic[R]):
    """A scheduled activity; wait for it with ``continuum.gather(handle, ...)``."""

    activity: Activity[..., R]
    seq: int
    kind: str = "activity"


def schedule(
    ctx: RunContext,
    act: Activity[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    site: Site,
    *,
    kind: str = "activity",
    idempotency_key: str | None = None,
    timeout: timedelta | None = None,
    max_attempts: int | None = None,
) -> int:
    """Journal (or replay) the scheduling of an activity; returns its command seq."""
    ev, key = ctx.command(kind, act.name, site)
    if ev is not None:
        return ev.seq
    encoded = act.encode_args(args, kwargs)
    key_value = idempotency_key if idempotency_key is not None else act.key_for(args, kwargs)
    if max_attempts is not None:
        check_max_attempts(max_attempts, f"continuum.execute({act.name})")
    attempts = max_attempts if max_attempts is not None else act.max_attempts
    limit = timeout if timeout is not None else act.timeout
    data = {
        "activity": act.name,
        "input": encoded,
        "idempotency_key": key_value,
        "max_attempts": attempts,
        "timeout_ms": to_ms(limit),
        "local": act.local,
    }
    scheduled = ctx.record(_SCHEDULED[kind], data, key=key, site=site)
    ctx.emit(f"{kind}.scheduled", {"activity": act.name, "seq": scheduled.seq})
    if act.local and ctx.host is not None:
        outcome = ctx.host.run_local_activity(
            act.name, encoded, idempotency_key=key_value, max_attempts=attempts, timeout=limit
        )
        if outcome.idempotency_hit:
            ctx.emit("activity.idempotency_hit", {"activity": act.name, "key": key_value})
        status = "completed" if outcome.ok else "failed"
        ctx.emit(f"{kind}.{status}", {"activity": act.name, "seq": scheduled.seq, "local": True})
        if outcome.ok:
            ctx.record(
                _COMPLETED[kind],
                {"result": outcome.result, "attempts": outcome.attempts},
                ref_seq=scheduled.seq,
            )
            if key_value is not None and not outcome.idempotency_hit:
                ctx.result.idempotent_results.append((act.name, key_value, outcome.result))
        else:
            ctx.record(
                _FAILED[kind],
                {"error": outcome.error, "attempts": outcome.attempts},
                ref_seq=scheduled.seq,
            )
    else:
        ctx.result.new_tasks.append(
            TaskSpec(
                command_seq=scheduled.seq,
                kind=kind,
                activity=act.name,
                args=encoded,
                idempotency_key=key_value,
                max_attempts=attempts,
                timeout_ms=to_ms(limit),
                backoff=act.backoff.to_json(),
                heartbeat_timeout_ms=to_ms(act.heartbeat_timeout),
            )
        )
    return scheduled.seq


def resolution(ctx: RunContext, seq: int, kind: str, name: str) -> Any:
    """The journaled outcome of the activity scheduled at ``seq``, or ``None`` if pending."""
    res = ctx.journaled(seq)
    if res is not None:
        return res
    done = ctx.finished_tasks.get(seq)
    if done is None:
        return None
    # The activity worker already emitted activity.completed/failed when it finished.
    ctx.result.journaled_tasks.append(seq)
    if done.ok:
        return ctx.record(
            _COMPLETED[kind], {"result": done.result, "attempts": done.attempts}, ref_seq=seq
        )
    return ctx.record(_FAILED[kind], {"error": done.error, "attempts": done.attempts}, ref_seq=seq)


def outcome_of(act: Activity[..., R], res: Any) -> R:
    """Decode a completion, or raise :class:`ActivityFailed` for a failure."""
    if res.type in (ev_types.ACTIVITY_COMPLETED, ev_types.COMPENSATION_COMPLETED):
        return act.decode_result(res.data.get("result"))
    error = res.data.get("error") or {}
    attempts = int(res.data.get("attempts", 0))
    raise ActivityFailed(
        f"activity {act.name} failed after {attempts} attempt(s): "
        f"{error.get('type', 'Error')}: {error.get('message', '')}",
        activity=act.name,
        error_type=str(error.get("type", "")),
        error_message=str(error.get("message", "")),
        attempts=attempts,
    )


def wait_for(ctx: RunContext, handles: Sequence[ActivityHandle[Any]]) -> list[Any]:
    """Resolve every handle (suspending if any is still running), then decode in order."""
    while True:  # block() returns only on the sticky path, with newer input
        results: list[Any] = []
        missing = []
        for h in handles:
            res = resolution(ctx, h.seq, h.kind, h.activity.name)
            if res is None:
                missing.append(h.activity.name)
            results.append(res)
        if not missing:
            break
        ctx.block("activity " + ", ".join(missing))
    return [outcome_of(h.activity, res) for h, res in zip(handles, results, strict=True)]


@overload
def execute(
    act: Activity[..., R],
    *args: Any,
    compensate: Compensation,
    idempotency_key: str | None = None,
    timeout: timedelta | None = None,
    max_attempts: int | None = None,
    **kwargs: Any,
) -> ActivityRef[R]: ...


@overload
def execute(
    act: Activity[..., R],
    *args: Any,
    compensate: None = None,
    idempotency_key: str | None = None,
    timeout: timedelta | None = None,
    max_attempts: int | None = None,
    **kwargs: Any,
) -> R: ...


def execute(
    act: Activity[..., R],
    *args: Any,
    compensate: Compensation | None = None,
    idempotency_key: str | None = None,
    timeout: timedelta | None = None,
    max_attempts: int | None = None,
    **kwargs: Any,
) -> R | ActivityRef[R]:
    """Run an activity and return its result; raise :class:`ActivityFailed` at the end.

    With ``compensate=continuum.compensation(undo, ...)`` the result comes back as an
    :class:`ActivityRef` and the undo step joins the run's pending compensations.
    """
    ctx = current_context()
    seq = schedule(
        ctx,
        act,
        args,
        kwargs,
        call_site(),
        idempotency_key=idempotency_key,
        timeout=timeout,
        max_attempts=max_attempts,
    )
    (value,) = wait_for(ctx, [ActivityHandle(act, seq)])
    if compensate is None:
        result: R = value
        return result
    ref = ActivityRef(value, seq, compensate)
    ctx.pending_compensations.append(ref)
    return ref


def start_activity(
    act: Activity[..., R],
    *args: Any,
    idempotency_key: str | None = None,
    timeout: timedelta | None = None,
    max_attempts: int | None = None,
    **kwargs: Any,
) -> ActivityHandle[R]:
    """Schedule an activity without waiting; pass the handle to :func:`gather`."""
    ctx = current_context()
    seq = schedule(
        ctx,
        act,
        args,
        kwargs,
        call_site(),
        idempotency_key=idempotency_key,
        timeout=timeout,
        max_attempts=max_attempts,
    )
    return ActivityHandle(act, seq)


def gather(*handles: ActivityHandle[Any]) -> list[Any]:
    """Wait for every handle; results in argument order. The first failure (in order)
    is raised as :class:`ActivityFailed` once all have finished."""
    ctx = current_context()
    ctx.check_alive()
    return wait_for(ctx, handles)
