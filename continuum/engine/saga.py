"""Sagas: undo completed steps, most recent first.

A compensation runs through the same activity path as any activity (worker, retry,
timeout, idempotency, fencing). A compensation that fails terminally is journaled as
``compensation_failed`` and does not fail the run: rollback continues with the next.
"""

from __future__ import annotations

from typing import Any, TypeVar

from continuum.engine import events as ev_types
from continuum.engine.activities import ActivityHandle, ActivityRef, resolution, schedule
from continuum.engine.context import RunContext, call_site, current_context

R = TypeVar("R")


def unwrap(ref: ActivityRef[R] | R) -> R:
    """The value of an activity, whether or not it was run with ``compensate=``."""
    if isinstance(ref, ActivityRef):
        value: R = ref.result
        return value
    return ref


def _pending(ctx: RunContext, ref: ActivityRef[Any]) -> bool:
    return any(p is ref for p in ctx.pending_compensations)


def _run(ctx: RunContext, handles: list[ActivityHandle[Any]]) -> list[bool]:
    while True:  # block() returns only on the sticky path, with newer input
        outcomes = []
        missing = []
        for h in handles:
            res = resolution(ctx, h.seq, "compensation", h.activity.name)
            if res is None:
                missing.append(h.activity.name)
            outcomes.append(res)
        if not missing:
            break
        ctx.block("compensation " + ", ".join(missing))
    return [res.type == ev_types.COMPENSATION_COMPLETED for res in outcomes]


def _schedule(ctx: RunContext, ref: ActivityRef[Any], site: Any) -> ActivityHandle[Any]:
    comp = ref.compensation
    assert comp is not None  # only refs with a compensation are ever pending
    ctx.pending_compensations = [p for p in ctx.pending_compensations if p is not ref]
    seq = schedule(ctx, comp.activity, comp.args, comp.kwargs, site, kind="compensation")
    return ActivityHandle(comp.activity, seq, kind="compensation")


def compensate(ref: ActivityRef[Any]) -> bool:
    """Run ``ref``'s compensation now and drop it from the pending set.

    Returns ``True`` when it completed, ``False`` when it failed terminally (journaled
    as ``compensation_failed``) or had already been compensated.
    """
    ctx = current_context()
    site = call_site()
    ctx.check_alive()
    if ref.compensation is None or not _pending(ctx, ref):
        return False
    (ok,) = _run(ctx, [_schedule(ctx, ref, site)])
    return ok


def compensate_all(parallel: bool = False) -> list[bool]:
    """Run every pending compensation, most recent first.

    With ``parallel=True`` all are scheduled at once and the workflow resumes when
    each has finished. Returns one success flag per compensation, in LIFO order.
    """
    ctx = current_context()
    site = call_site()
    ctx.check_alive()
    refs = list(reversed(ctx.pending_compensations))
    if parallel:
        return _run(ctx, [_schedule(ctx, ref, site) for ref in refs])
    return [_run(ctx, [_schedule(ctx, ref, site)])[0] for ref in refs]
