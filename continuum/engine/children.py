"""Child workflows from the parent's side: ``child``, ``start_child``, ``wait_child``.

A child's run id is derived from the parent's id and the command identity (or the
``id=`` given), so a replayed parent can never start a second child.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from continuum import payloads
from continuum.definitions.workflow import Workflow
from continuum.engine import events as ev_types
from continuum.engine.context import RunContext, Site, call_site, current_context
from continuum.engine.types import ChildSpec
from continuum.errors import ChildFailed, ContinuumError

I = TypeVar("I")
R = TypeVar("R")


class ChildDepthExceeded(ContinuumError):
    """A workflow tried to start a child deeper than ``max_child_depth``."""

    code = "child_depth_exceeded"


@dataclass(frozen=True)
class ChildRef(Generic[R]):
    """A started child run; wait for it with ``continuum.wait_child(ref)``."""

    run_id: str
    seq: int
    workflow: Workflow[Any, R]


_RESOLVED = {
    "completed": ev_types.CHILD_COMPLETED,
    "failed": ev_types.CHILD_FAILED,
    "cancelled": ev_types.CHILD_CANCELLED,
}


def _start(
    ctx: RunContext, flow: Workflow[I, R], input: I, id: str | None, site: Site
) -> ChildRef[R]:
    encoded = flow.encode_input(input)
    input_hash = payloads.digest(encoded)
    ev, key = ctx.command("child", flow.name, site)
    if ev is not None:
        if ev.data.get("workflow") != flow.name or ev.data.get("input_hash") != input_hash:
            ctx.raise_drift(
                ev.seq,
                f"child {ev.data.get('workflow')!r} with input hash {ev.data.get('input_hash')}",
                f"child {flow.name!r} with input hash {input_hash} at {site[2]}:{site[3]}",
            )
        return ChildRef(str(ev.data["child_run_id"]), ev.seq, flow)
    if ctx.inp.depth + 1 > ctx.inp.max_child_depth:
        raise ChildDepthExceeded(
            f"run {ctx.run_id} is at depth {ctx.inp.depth}; starting {flow.name} would exceed "
            f"max_child_depth={ctx.inp.max_child_depth} (raise it on the Worker if intended)"
        )
    suffix = f"{id}" if id is not None else f"{key[1]}:{key[2]}:{key[3]}"
    child_id = f"{ctx.run_id}/{suffix}"
    started = ctx.record(
        ev_types.CHILD_STARTED,
        {"workflow": flow.name, "input_hash": input_hash, "child_run_id": child_id},
        key=key,
        site=site,
    )
    assert started.command is not None
    ctx.result.new_children.append(
        ChildSpec(child_id, flow.name, flow.version_hash, encoded, started.seq, started.command)
    )
    ctx.emit("child.started", {"child_run_id": child_id, "workflow": flow.name})
    return ChildRef(child_id, started.seq, flow)


def _wait(ctx: RunContext, ref: ChildRef[R]) -> R:
    ctx.check_alive()
    res = ctx.journaled(ref.seq)
    while res is None:  # block() returns only on the sticky path, with newer input
        done = ctx.finished_children.get(ref.run_id)
        if done is None:
            ctx.block(f"child {ref.run_id}")
            res = ctx.journaled(ref.seq)
            continue
        res = ctx.record(
            _RESOLVED[done.state],
            {"child_run_id": ref.run_id, "result": done.result, "error": done.error},
            ref_seq=ref.seq,
        )
        ctx.emit(f"child.{done.state}", {"child_run_id": ref.run_id})
    if res.type == ev_types.CHILD_COMPLETED:
        return ref.workflow.decode_result(res.data.get("result"))
    state = "cancelled" if res.type == ev_types.CHILD_CANCELLED else "failed"
    error = res.data.get("error") or {}
    detail = f": {error.get('type', 'Error')}: {error.get('message', '')}" if error else ""
    raise ChildFailed(
        f"child run {ref.run_id} ({ref.workflow.name}) {state}{detail}",
        child_run_id=ref.run_id,
        state=state,
        error=error,
    )


def start_child(flow: Workflow[I, R], input: I, id: str | None = None) -> ChildRef[R]:
    """Start a child run without waiting; ``id=`` gives it a parent-scoped key."""
    return _start(current_context(), flow, input, id, call_site())


def wait_child(ref: ChildRef[R]) -> R:
    """Wait for a child started with :func:`start_child`; raise :class:`ChildFailed` if it
    failed or was cancelled."""
    return _wait(current_context(), ref)


def child(flow: Workflow[I, R], input: I, id: str | None = None) -> R:
    """Start a child run and wait for its result."""
    ctx = current_context()
    return _wait(ctx, _start(ctx, flow, input, id, call_site()))
