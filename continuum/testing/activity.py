"""Unit-testing one activity body with its activity context, without a worker.

>>> env = ActivityEnvironment(attempt=2, heartbeat_details={"page": 3})
>>> env.run(sync_catalog, "acme")              # activity_info()/heartbeat() work inside
>>> env.heartbeats                             # every heartbeat's details, in order
>>> env.cancel("the run was cancelled")        # the next heartbeat() raises ActivityCancelled

``async def`` activities are run to completion on a private event loop (``env.cancel``
from another thread cancels them with ``asyncio.CancelledError``).
"""

from __future__ import annotations

import asyncio
import inspect
from datetime import UTC, datetime, timedelta
from typing import Any

from continuum.definitions.activity import Activity
from continuum.definitions.activity_context import (
    ActivityInfo,
    ActivityScope,
    activity_scope,
    task_token,
)


class ActivityEnvironment:
    """Runs activity bodies in place with a chosen :class:`ActivityInfo`."""

    def __init__(
        self,
        *,
        run_id: str = "test-run",
        attempt: int = 1,
        task_id: int = 1,
        heartbeat_details: Any = None,
        heartbeat_timeout: timedelta | None = None,
        max_attempts: int | None = 1,
    ) -> None:
        self.run_id = run_id
        self.attempt = attempt
        self.task_id = task_id
        self.heartbeat_details = heartbeat_details
        self.heartbeat_timeout = heartbeat_timeout
        self.max_attempts = max_attempts
        self.heartbeats: list[Any] = []
        """The details of every ``heartbeat()`` call (``None`` for a call without)."""
        self.scope: ActivityScope | None = None
        self._pending_cancel: str | None = None

    def _beat(self, details: Any, has_details: bool) -> None:
        self.heartbeats.append(details if has_details else None)

    def cancel(self, reason: str = "the run was cancelled") -> None:
        """Tell the running (or next) body to stop, as a cancelled run would."""
        if self.scope is not None:
            self.scope.cancel(reason)
        else:
            self._pending_cancel = reason

    def run(self, act: Activity[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call ``act``'s function with ``args`` inside an activity context; return its value."""
        info = ActivityInfo(
            run_id=self.run_id,
            activity=act.name,
            attempt=self.attempt,
            task_id=self.task_id,
            task_token=task_token(self.task_id, self.attempt, 0),
            started_at=datetime.now(UTC),
            max_attempts=self.max_attempts,
            heartbeat_timeout=self.heartbeat_timeout,
        )
        scope = ActivityScope(info, previous_details=self.heartbeat_details, beat=self._beat)
        if self._pending_cancel is not None:
            scope.cancel(self._pending_cancel)
        self.scope = scope
        with activity_scope(scope):
            value = act.fn(*args, **kwargs)
            if inspect.iscoroutine(value):
                value = asyncio.run(_bound(value, scope))
        return value


async def _bound(coro: Any, scope: ActivityScope) -> Any:
    task = asyncio.current_task()
    if task is not None:
        scope.bind_async(asyncio.get_running_loop(), task)
    return await coro


__all__ = ["ActivityEnvironment"]
