"""One activation: replay the journal through the workflow function until it blocks or ends."""

from __future__ import annotations

import traceback
from typing import Any

from continuum.definitions.workflow import Workflow
from continuum.engine import events as ev_types
from continuum.engine.context import Parker, RunContext
from continuum.engine.control import ContinueAsNew, Suspend
from continuum.engine.types import ActivationHost, ActivationInput, ActivationResult, Outcome
from continuum.errors import Cancelled, ContinuumError, SuspendLeakError


def error_payload(exc: BaseException) -> dict[str, Any]:
    """How an exception is stored: type, message and traceback (never pickled)."""
    cls = type(exc)
    return {
        "type": cls.__name__
        if cls.__module__ == "builtins"
        else f"{cls.__module__}.{cls.__name__}",
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(exc)),
        "code": getattr(exc, "code", None) if isinstance(exc, ContinuumError) else None,
    }


def _leftover_commands(ctx: RunContext) -> None:
    if ctx.cursor < ctx.n_commands:
        extra = ctx.commands[ctx.cursor]
        ctx.raise_drift(
            extra.seq,
            f"{ev_types.describe_command(extra.command)} "
            f"(and {ctx.n_commands - ctx.cursor - 1} more)",
            "nothing: the workflow finished before reaching it",
        )


def activate(
    flow: Workflow[Any, Any],
    inp: ActivationInput,
    host: ActivationHost | None = None,
    parker: Parker | None = None,
) -> ActivationResult:
    """Run ``flow`` over the journal in ``inp``; return what to commit.

    Never raises for workflow behaviour: failures, drift and suspend leaks become a
    ``failed`` outcome. Only ``KeyboardInterrupt``/``SystemExit`` propagate.

    With a ``parker`` (sticky execution, :mod:`continuum.runtime.sticky`) a live wait
    parks the workflow instead of ending the activation: each suspended activation's
    result goes to the parker, and this call returns only the result of the activation
    in which the run finally ends (or is evicted).
    """
    ctx = RunContext(inp, host, flow.name)
    ctx.parker = parker
    if inp.last_seq == 0:
        ctx.record(
            ev_types.RUN_STARTED,
            {
                "run_id": inp.run_id,
                "workflow": flow.name,
                "version_hash": flow.version_hash,
                "input": inp.input,
                # What continuum.info() reports, so offline replay reports the same.
                "namespace": inp.namespace,
                "parent_run_id": inp.parent_run_id,
                "correlation_id": inp.correlation_id or inp.run_id,
                "attempt": inp.attempt,
            },
        )
    if inp.cancel_requested and (inp.cancel_deadline is None or inp.cancel_deadline <= inp.now):
        # Immediate cancel, or a cooperative one whose grace ran out: hard cancel.
        ctx.result.outcome = Outcome("cancelled")
        return ctx.result
    with ctx:
        try:
            value = flow.fn(flow.decode_input(inp.input)) if flow.takes_input else flow.fn()  # type: ignore[call-arg]
            ctx.check_alive()
            if ctx.cancel_delivered:
                # The workflow cleaned up and returned: a cancelled run has no result.
                ctx.result.outcome = Outcome("cancelled")
                return ctx.result
            _leftover_commands(ctx)
            encoded = flow.encode_result(value)
            ctx.record(ev_types.RUN_COMPLETED, {"result": encoded})
            ctx.result.outcome = Outcome("completed", result=encoded)
        except Cancelled:
            if ctx.fatal is not None:
                _fail(ctx, ctx.fatal)
            elif ctx.suspended is not None:
                # Cancelled raced a suspend that was swallowed: the suspend leak wins.
                _fail(ctx, SuspendLeakError(f"run {ctx.run_id}: suspend swallowed"))
            elif ctx.cancel_delivered:
                ctx.result.outcome = Outcome("cancelled")
            else:
                _fail(ctx, Cancelled("continuum.Cancelled raised without a cancel request"))
        except Suspend as s:
            if ctx.fatal is not None:
                _fail(ctx, ctx.fatal)
            else:
                ctx.result.outcome = Outcome("suspended", waiting_on=s.waiting_on)
        except ContinueAsNew as c:
            if ctx.fatal is not None:
                _fail(ctx, ctx.fatal)
            elif ctx.suspended is not None:
                _fail(
                    ctx,
                    SuspendLeakError(
                        f"run {ctx.run_id}: continue_as_new after a swallowed suspend"
                    ),
                )
            else:
                ctx.result.outcome = Outcome("continued", continue_input=c.input)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:
            _fail(ctx, ctx.fatal if ctx.fatal is not None else exc)
    return ctx.result


def _fail(ctx: RunContext, exc: BaseException) -> None:
    ctx.result.fatal = ctx.fatal
    error = error_payload(exc)
    ctx.record(ev_types.RUN_FAILED, {"error": error})
    ctx.result.outcome = Outcome("failed", error=error)
