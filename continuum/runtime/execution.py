"""Running an activity body: decode arguments, call, encode the result or the error."""

from __future__ import annotations

import asyncio
import inspect
from dataclasses import dataclass
from typing import Any

from continuum import payloads
from continuum.definitions.activity import Activity
from continuum.engine.activation import error_payload


@dataclass(slots=True)
class AttemptResult:
    """One attempt's outcome: a JSON result, or an error payload."""

    ok: bool
    result: Any = None
    error: dict[str, Any] | None = None


def _timeout_error(act: Activity[..., Any], timeout_s: float) -> dict[str, Any]:
    return {
        "type": "TimeoutError",
        "message": f"activity {act.name} exceeded its timeout of {timeout_s:g}s",
        "traceback": "",
        "code": "activity_timeout",
    }


def run_attempt(
    act: Activity[..., Any], args: dict[str, Any], timeout_s: float | None
) -> AttemptResult:
    """Run one attempt of ``act`` with JSON ``args``; never raises (except interrupts).

    ``async def`` activities run on a private event loop and are cancelled at the
    timeout. A synchronous body cannot be interrupted from outside; its timeout is
    enforced by the caller (the worker abandons the attempt and the task lease).
    """
    try:
        pos, kw = act.decode_args(args)
        if act.is_async:
            coro = act.fn(*pos, **kw)
            assert inspect.iscoroutine(coro)
            if timeout_s is not None:
                value = asyncio.run(asyncio.wait_for(coro, timeout_s))
            else:
                value = asyncio.run(coro)
        else:
            value = act.fn(*pos, **kw)
        return AttemptResult(True, payloads.encode(value, what=f"result of activity {act.name}"))
    except (KeyboardInterrupt, SystemExit):
        raise
    except TimeoutError:
        return AttemptResult(False, error=_timeout_error(act, timeout_s or 0))
    except BaseException as exc:
        return AttemptResult(False, error=error_payload(exc))
