"""Inside an activity: who it is, heartbeats, cancellation, asynchronous completion.

>>> @continuum.activity(heartbeat_timeout=seconds(30), max_attempts=None)
... def sync_catalog(shop: str) -> int:
...     info = continuum.activity_info()          # run_id, activity, attempt, task_token, ...
...     for page in pages(shop, start=continuum.heartbeat_details() or 0):
...         continuum.heartbeat(page)             # renews the task lease; kept for a retry

The runtime that executes an attempt (the builtin pool, the procrastinate executor, a
local activity, the testing kit) opens an :class:`ActivityScope` around the body; these
functions read it from a context variable, so they work in ``def`` and ``async def``
activities alike and raise :class:`~continuum.errors.ActivityContextError` anywhere else.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from continuum import payloads
from continuum.errors import ActivityCancelled, ActivityContextError, TaskTokenError

_TOKEN_PREFIX = "ct1"


class ActivityInfo(BaseModel):
    """What ``continuum.activity_info()`` returns: the attempt that is running."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    activity: str
    attempt: int
    task_id: int | None
    """The activity task's id (``None`` for a ``local=True`` activity: it has no task)."""
    task_token: str | None
    """Finishes this attempt from elsewhere after ``complete_later()`` (``None`` when local)."""
    started_at: datetime
    max_attempts: int | None = None
    heartbeat_timeout: timedelta | None = None
    local: bool = False


def task_token(task_id: int, attempt: int, lease_token: int) -> str:
    """The opaque token naming one attempt of one task under one lease."""
    return f"{_TOKEN_PREFIX}.{task_id}.{attempt}.{lease_token}"


def parse_task_token(token: object, *, operation: str) -> tuple[int, int, int]:
    """``(task_id, attempt, lease_token)`` from a token; ``TaskTokenError`` if malformed."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) == 4 and parts[0] == _TOKEN_PREFIX and all(p.isdigit() for p in parts[1:]):
        return int(parts[1]), int(parts[2]), int(parts[3])
    raise TaskTokenError(
        f"{operation}: {token!r} is not a task token; pass the string an activity read "
        "from continuum.activity_info().task_token before returning continuum.complete_later()"
    )


class _CompleteLater:
    """The marker an activity returns to be finished later by whoever holds its token."""

    _instance: _CompleteLater | None = None

    def __new__(cls) -> _CompleteLater:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "continuum.complete_later()"


COMPLETE_LATER = _CompleteLater()


def complete_later() -> Any:
    """Return this from an activity to finish it later with ``Client.complete_activity``.

    The attempt stays open (its run keeps waiting) until someone calls
    ``client.complete_activity(token, result)`` or ``client.fail_activity(token, error)``
    with ``activity_info().task_token``; with ``timeout=`` on the activity, an attempt
    not finished in time is retried like one that crashed.
    """
    return COMPLETE_LATER


Beat = Callable[[Any, bool], None]
"""The runtime's heartbeat hook: ``beat(json_details, has_details)``; may call
:meth:`ActivityScope.cancel` when it learns the attempt must stop."""


class ActivityScope:
    """One running attempt, as the activity API sees it (opened by the runtime)."""

    def __init__(
        self,
        info: ActivityInfo,
        *,
        previous_details: Any = None,
        beat: Beat | None = None,
    ) -> None:
        self.info = info
        self.previous_details = previous_details
        self._beat = beat
        self._lock = threading.Lock()
        self.cancel_reason: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self.last_details: Any = None
        self.has_details = False

    # -- cancellation -----------------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        """Whether the attempt was told to stop."""
        return self.cancel_reason is not None

    def cancel(self, reason: str) -> None:
        """Tell the attempt to stop: ``heartbeat()`` raises, an async body is cancelled."""
        with self._lock:
            if self.cancel_reason is not None:
                return
            self.cancel_reason = reason
            loop, task = self._loop, self._task
        if loop is not None and task is not None:
            with contextlib.suppress(RuntimeError):  # a closed loop: the body is over
                loop.call_soon_threadsafe(task.cancel)

    def bind_async(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        """Register the task running an ``async def`` body (cancelled on :meth:`cancel`)."""
        with self._lock:
            self._loop, self._task = loop, task
            pending = self.cancel_reason is not None
        if pending:
            task.cancel()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`ActivityCancelled` if the attempt was told to stop."""
        reason = self.cancel_reason
        if reason is not None:
            raise ActivityCancelled(
                f"activity {self.info.activity} (run {self.info.run_id!r}, attempt "
                f"{self.info.attempt}) must stop: {reason}; clean up and return — "
                "nothing it does from now on is recorded",
                run_id=self.info.run_id,
                task_id=self.info.task_id,
            )

    # -- heartbeats -------------------------------------------------------------------
    def heartbeat(self, details: Any, has_details: bool) -> None:
        """Record a heartbeat (the runtime coalesces the writes); raise once cancelled."""
        self.raise_if_cancelled()
        if has_details:
            self.last_details, self.has_details = details, True
        if self._beat is not None:
            self._beat(details, has_details)
        self.raise_if_cancelled()


_SCOPE: contextvars.ContextVar[ActivityScope | None] = contextvars.ContextVar(
    "continuum_activity_scope", default=None
)


@contextmanager
def activity_scope(scope: ActivityScope) -> Iterator[ActivityScope]:
    """Make ``scope`` the current activity for the block (and the tasks it starts)."""
    reset = _SCOPE.set(scope)
    try:
        yield scope
    finally:
        _SCOPE.reset(reset)


def current_scope(operation: str) -> ActivityScope:
    """The running attempt's scope; ``ActivityContextError`` outside an activity."""
    scope = _SCOPE.get()
    if scope is None:
        raise ActivityContextError(
            f"continuum.{operation}() was called outside an activity; it works only while "
            "an activity attempt runs (on a worker or in continuum.testing). In a "
            "workflow, use the workflow API; in a unit test of the function, call it "
            "through continuum.testing.WorkflowEnvironment"
        )
    return scope


def activity_info() -> ActivityInfo:
    """The running attempt: run id, activity, attempt, task id and token, start time."""
    return current_scope("activity_info").info


def heartbeat(details: Any = None) -> None:
    """Tell Continuum the activity is alive; keep ``details`` for the next attempt.

    Renews the task lease (an activity with ``heartbeat_timeout=`` that stops calling
    this for longer is treated as crashed and retried). Calls are coalesced: at most one
    database write per second per task, whatever the call rate; the newest details win.
    ``heartbeat()`` without details keeps the last ones. Raises
    :class:`~continuum.errors.ActivityCancelled` once the run was cancelled, the task's
    lease was lost, or the worker is shutting down.
    """
    scope = current_scope("heartbeat")
    encoded = (
        payloads.encode(details, what=f"heartbeat details of activity {scope.info.activity}")
        if details is not None
        else None
    )
    scope.heartbeat(encoded, details is not None)


def heartbeat_details() -> Any:
    """The details of the last heartbeat of an earlier attempt (``None`` if there was none)."""
    return current_scope("heartbeat_details").previous_details


__all__ = [
    "COMPLETE_LATER",
    "ActivityInfo",
    "ActivityScope",
    "activity_info",
    "activity_scope",
    "complete_later",
    "current_scope",
    "heartbeat",
    "heartbeat_details",
    "parse_task_token",
    "task_token",
]
