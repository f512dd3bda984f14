"""Asynchronous completion: finish an attempt that returned ``continuum.complete_later()``.

The token (``activity_info().task_token``) names the task, the attempt and the lease
under which it ran; the finish is the same fenced write a worker makes (task id, lease
token, attempt, state), so a token whose attempt was already finished, timed out and
retried, or whose run was cancelled, changes nothing and raises
:class:`~continuum.errors.StaleTaskToken`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from continuum import payloads
from continuum.definitions.activity_context import parse_task_token
from continuum.definitions.registry import REGISTRY
from continuum.engine.activation import error_payload
from continuum.errors import PayloadError, StaleTaskToken
from continuum.journal.postgres import PostgresJournal
from continuum.journal.records import TaskFinish


def _error_of(error: object, operation: str) -> dict[str, Any]:
    if isinstance(error, BaseException):
        return error_payload(error)
    if isinstance(error, str):
        return {"type": "Error", "message": error, "traceback": "", "code": None}
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return {
            "type": str(error.get("type", "Error")),
            "message": error["message"],
            "traceback": str(error.get("traceback", "")),
            "code": error.get("code"),
        }
    raise PayloadError(
        f"{operation}: error must be an exception, a message string or a dict with "
        f"'type' and 'message', got {type(error).__name__}"
    )


@dataclass(frozen=True)
class Completion:
    """A checked completion request: what to write, fenced by which token."""

    task_id: int
    attempt: int
    lease_token: int
    ok: bool
    result: Any
    error: dict[str, Any] | None
    exception: BaseException | None

    def is_final(self, activity: str) -> bool:
        """Whether the failure is non-retryable for ``activity`` (when it is registered here)."""
        exc = self.exception
        if exc is None or not REGISTRY.has_activity(activity):
            return False
        return REGISTRY.activity(activity).is_non_retryable(exc)


def prepare(token: object, *, ok: bool, result: Any, error: object, operation: str) -> Completion:
    """Parse the token and encode the outcome, before any I/O (bad input raises here)."""
    task_id, attempt, lease_token = parse_task_token(token, operation=operation)
    if ok:
        encoded = payloads.encode(result, what=f"result passed to {operation}")
        err = None
    else:
        # Checked like any payload (strings jsonb cannot store are refused here).
        encoded = None
        err = payloads.encode(_error_of(error, operation), what=f"error passed to {operation}")
    exc = error if isinstance(error, BaseException) else None
    return Completion(task_id, attempt, lease_token, ok, encoded, err, exc)


def check_finished(finish: TaskFinish, token: object, operation: str) -> TaskFinish:
    """Raise :class:`StaleTaskToken` when the fenced write changed nothing."""
    if finish.status == "fenced":
        raise StaleTaskToken(
            f"{operation}: the task token {token!r} no longer fences its attempt "
            "(it was already completed or failed, it timed out and was retried under a new "
            "token, or its run was cancelled); nothing was written. Read the current "
            "attempt's token from continuum.activity_info().task_token"
        )
    return finish


def finish_by_token(
    journal: PostgresJournal,
    token: str,
    *,
    ok: bool,
    result: Any = None,
    error: object = None,
    operation: str,
) -> TaskFinish:
    """Record the outcome of the attempt ``token`` names; ``StaleTaskToken`` if fenced."""
    c = prepare(token, ok=ok, result=result, error=error, operation=operation)
    finish = journal.finish_by_token(
        c.task_id,
        c.attempt,
        c.lease_token,
        ok=c.ok,
        result=c.result,
        error=c.error,
        final_for=c.is_final,
    )
    return check_finished(finish, token, operation)
