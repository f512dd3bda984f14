"""Running an activity body: decode arguments, call, encode the result or the error."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from continuum import payloads
from continuum.definitions.activity import Activity
from continuum.definitions.activity_context import COMPLETE_LATER, ActivityScope, activity_scope
from continuum.engine.activation import error_payload


@dataclass(slots=True)
class AttemptResult:
    """One attempt's outcome: a JSON result, or an error payload.

    ``final``: the error must not be retried (a ``non_retryable`` type, or the attempt
    was cancelled). ``deferred``: the body returned ``complete_later()``.
    """

    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None
    final: bool = False
    deferred: bool = False


def timeout_error(activity: str, timeout_s: float) -> dict[str, Any]:
    """The error payload recorded for an attempt that ran out of time (async bodies are
    cancelled here; synchronous ones are abandoned by :mod:`continuum.runtime.deadline`)."""
    return {
        "type": "TimeoutError",
        "message": f"activity {activity} exceeded its timeout of {timeout_s:g}s",
        "traceback": "",
        "code": "activity_timeout",
    }


async def _run_async(
    coro: Coroutine[Any, Any, Any], timeout_s: float | None, scope: ActivityScope | None
) -> Any:
    task = asyncio.current_task()
    if scope is not None and task is not None:
        scope.bind_async(asyncio.get_running_loop(), task)
    if timeout_s is not None:
        return await asyncio.wait_for(coro, timeout_s)
    return await coro


def run_attempt(
    act: Activity[..., Any],
    args: dict[str, Any],
    timeout_s: float | None,
    scope: ActivityScope | None = None,
) -> AttemptResult:
    """Run one attempt of ``act`` with JSON ``args``; never raises (except interrupts).

    ``async def`` activities run on a private event loop and are cancelled at the
    timeout (or when ``scope`` is cancelled). A synchronous body cannot be interrupted
    from outside; its timeout is enforced by the caller (the worker abandons the attempt
    and the task lease). Inside the body, ``scope`` is what ``continuum.activity_info()``
    and ``continuum.heartbeat()`` see.
    """
    entered: AbstractContextManager[Any] = (
        activity_scope(scope) if scope is not None else nullcontext()
    )
    try:
        pos, kw = act.decode_args(args)
        with entered:
            if act.is_async:
                coro = act.fn(*pos, **kw)
                assert inspect.iscoroutine(coro)
                value = asyncio.run(_run_async(coro, timeout_s, scope))
            else:
                value = act.fn(*pos, **kw)
        if value is COMPLETE_LATER:
            return AttemptResult(True, deferred=True)
        return AttemptResult(True, payloads.encode(value, what=f"result of activity {act.name}"))
    except (KeyboardInterrupt, SystemExit):
        raise
    except TimeoutError as exc:
        if scope is not None and scope.cancelled:
            return _failure(act, exc, scope)
        return AttemptResult(False, error=timeout_error(act.name, timeout_s or 0))
    except BaseException as exc:
        return _failure(act, exc, scope)


def _failure(
    act: Activity[..., Any], exc: BaseException, scope: ActivityScope | None
) -> AttemptResult:
    error = error_payload(exc)
    final = act.is_non_retryable(exc) or (scope is not None and scope.cancelled)
    if act.is_non_retryable(exc):
        error["non_retryable"] = True
    return AttemptResult(False, error=error, final=final)
