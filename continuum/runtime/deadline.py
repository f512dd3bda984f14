"""One activity attempt with a deadline the caller can rely on.

``async def`` bodies are cancelled at their timeout by :func:`run_attempt` itself. A
synchronous body cannot be interrupted from outside, so it runs on a helper thread and
the attempt is *abandoned* at the deadline: the caller gets a timeout error at once and
moves on (the abandoned thread finishes in the background; its result is dropped).
"""

from __future__ import annotations

import threading
from typing import Any

from continuum.definitions.activity import Activity
from continuum.runtime.execution import AttemptResult, run_attempt


def timeout_error(activity: str, timeout_s: float) -> dict[str, Any]:
    """The error payload recorded for an attempt that ran out of time."""
    return {
        "type": "TimeoutError",
        "message": f"activity {activity} exceeded its timeout of {timeout_s:g}s",
        "traceback": "",
        "code": "activity_timeout",
    }


def run_bounded(
    act: Activity[..., Any], args: dict[str, Any], timeout_s: float | None
) -> AttemptResult:
    """Run one attempt; a synchronous body that outlives ``timeout_s`` is abandoned."""
    if timeout_s is None or act.is_async:
        return run_attempt(act, args, timeout_s)
    box: list[AttemptResult] = []

    def target() -> None:
        box.append(run_attempt(act, args, timeout_s))

    thread = threading.Thread(target=target, name=f"continuum-attempt:{act.name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if box:
        return box[0]
    return AttemptResult(False, error=timeout_error(act.name, timeout_s))
