"""One activity attempt with a deadline the caller can rely on.

``async def`` bodies are cancelled at their timeout by :func:`run_attempt` itself. A
synchronous body cannot be interrupted from outside, so it runs on a helper thread and
the attempt is *abandoned* at the deadline: the caller gets a timeout error at once and
moves on (the abandoned thread finishes in the background; its result is dropped).

Helper threads are daemon threads: a body that never returns (and ignores
cancellation) cannot keep the process alive once the worker has let go of it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from continuum.definitions.activity import Activity
from continuum.definitions.activity_context import ActivityScope
from continuum.runtime.execution import AttemptResult, run_attempt, timeout_error

CHECK_S = 0.25
"""How often a waiting caller asks ``should_abandon`` (lease checks, shutdown)."""


def run_bounded(
    act: Activity[..., Any],
    args: dict[str, Any],
    timeout_s: float | None,
    scope: ActivityScope | None = None,
    *,
    should_abandon: Callable[[], bool] | None = None,
    wake: threading.Event | None = None,
) -> AttemptResult | None:
    """Run one attempt; a synchronous body that outlives ``timeout_s`` is abandoned.

    With ``should_abandon`` the body always runs on a daemon thread and the caller stops
    waiting (returns ``None``) once it answers true — checked every :data:`CHECK_S` and
    whenever ``wake`` is set.
    """
    if should_abandon is None and (timeout_s is None or act.is_async):
        return run_attempt(act, args, timeout_s, scope)
    box: list[AttemptResult] = []
    settled = wake or threading.Event()

    def target() -> None:
        box.append(run_attempt(act, args, timeout_s, scope))
        settled.set()

    thread = threading.Thread(target=target, name=f"continuum-attempt:{act.name}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s if timeout_s is not None and not act.is_async else None
    while True:
        wait_s = CHECK_S if should_abandon is not None else None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            wait_s = left if wait_s is None else min(wait_s, left)
        settled.wait(wait_s)
        settled.clear()
        if box:
            return box[0]
        if should_abandon is not None and should_abandon():
            return None
    if box:
        return box[0]
    if scope is not None:
        scope.cancel(f"it exceeded its timeout of {timeout_s:g}s")
    assert timeout_s is not None
    return AttemptResult(False, error=timeout_error(act.name, timeout_s))
