"""Every error Continuum raises, under one root.

The tree::

    ContinuumError
    ├── ConfigurationError          bad settings, DSN, pyproject, decorator use
    │   └── DefinitionError         a workflow/activity that cannot be registered
    ├── DatabaseUnavailable         the database cannot be reached
    ├── PayloadError                a value that is not JSON, or does not decode to its type
    ├── WorkflowError               about workflow code, or raised inside a workflow
    │   ├── WorkflowNotRegistered   a name/version this process does not know
    │   ├── ReplayDriftError        the code no longer matches the journal
    │   ├── SuspendLeakError        workflow code swallowed the engine's suspend
    │   ├── WorkflowContextError    workflow API used outside a workflow, or client API inside one
    │   ├── ActivityFailed          an activity failed after its last attempt
    │   ├── ChildFailed             a child run failed or was cancelled
    │   ├── SignalTimeout           ``wait_signal(timeout=...)`` ran out
    │   └── UpdateAlreadyAnswered   ``reply``/``reject`` on an update answered before
    ├── RunError                    a run (by id) cannot do what was asked of it (``run_id``)
    │   ├── RunNotFound             no run with that id
    │   ├── RunTerminal             the run already finished
    │   ├── RunAlreadyExists        ``start(if_exists="error")`` on a taken id
    │   ├── RunFailed               ``Client.result`` on a failed run
    │   ├── RunCancelled            ``Client.result`` on a cancelled run
    │   ├── ResultTimeout           ``Client.result(timeout=)`` ran out (also a ``TimeoutError``)
    │   ├── ForkError               ``fork`` cannot copy the journal at that point
    │   ├── UpdateRejected          the workflow rejected ``Client.update`` (``continuum.reject``)
    │   └── UpdateTimeout           ``Client.update(timeout=)`` / ``get_event(timeout=)`` ran
    │                               out (also a ``TimeoutError``)
    ├── ActivityContextError        activity API (activity_info, heartbeat) used outside an activity
    ├── ActivityCancelled           heartbeat() once the run was cancelled or the lease lost
    ├── TaskTokenError              complete_activity/fail_activity with a malformed token
    │   └── StaleTaskToken          ... with a token that no longer fences the task
    └── ScheduleNotFound            no schedule with that id

``except continuum.RunError`` catches every way a client call about one run can fail;
``except continuum.WorkflowError`` every error workflow code meets (or causes). A write
that lost its lease is internal (``continuum.journal.fencing.Fenced``) and never reaches
user code.

Engine control flow (suspend, continue-as-new) derives from ``BaseException`` and
lives in :mod:`continuum.engine.control`, so ``except Exception`` in user code cannot
swallow it. :class:`Cancelled` (cooperative cancellation, delivered into a workflow) is
a ``BaseException`` for the same reason, and is defined here because users catch it.

Every class has a short stable ``code`` for logs and JSON output.
"""

from __future__ import annotations

from typing import Any


class ContinuumError(Exception):
    """Root of every error Continuum raises."""

    code = "continuum_error"

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description, used by the CLI's ``--format json``."""
        return {"code": self.code, "type": type(self).__name__, "message": str(self)}


class ConfigurationError(ContinuumError):
    """Settings that cannot work: a malformed DSN, a bad pyproject table, bad options."""

    code = "configuration"


class DefinitionError(ConfigurationError):
    """A workflow or activity definition that cannot be registered."""

    code = "definition"


class DatabaseUnavailable(ContinuumError):
    """The database could not be reached or refused the connection."""

    code = "database_unavailable"


class PayloadError(ContinuumError):
    """A value is not JSON-serializable, or journaled JSON does not decode to its type."""

    code = "payload"


class WorkflowError(ContinuumError):
    """About workflow code, or raised inside a running workflow (the family's root)."""

    code = "workflow_error"


class RunError(ContinuumError):
    """A run, named by its id, cannot do what was asked of it (the family's root).

    ``run_id`` is the run's id (``""`` when the error is not about one known run).
    """

    code = "run_error"
    run_id: str = ""


class WorkflowNotRegistered(WorkflowError):
    """A workflow (or one of its versions) is not known to this process."""

    code = "workflow_not_registered"


class ReplayDriftError(WorkflowError):
    """The workflow code issued a different command than the journal recorded.

    Carries the run id, the journal sequence number, and both commands (with
    file:line) so the message points at the exact change that broke replay.
    """

    code = "replay_drift"

    def __init__(
        self,
        message: str,
        *,
        run_id: str = "",
        seq: int | None = None,
        expected: str = "",
        actual: str = "",
    ) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.seq = seq
        self.expected = expected
        self.actual = actual


class SuspendLeakError(WorkflowError):
    """Workflow code caught the engine's suspend signal and kept running."""

    code = "suspend_leak"


class WorkflowContextError(WorkflowError):
    """Workflow API used outside a workflow, or client API used inside one."""

    code = "workflow_context"


class ActivityFailed(WorkflowError):
    """An activity failed after its last attempt. Raised inside the workflow."""

    code = "activity_failed"

    def __init__(
        self,
        message: str,
        *,
        activity: str = "",
        error_type: str = "",
        error_message: str = "",
        attempts: int = 0,
    ) -> None:
        super().__init__(message)
        self.activity = activity
        self.error_type = error_type
        self.error_message = error_message
        self.attempts = attempts


class ActivityContextError(ContinuumError):
    """Activity API (``activity_info``, ``heartbeat``, ...) called outside an activity."""

    code = "activity_context"


class ActivityCancelled(ContinuumError):
    """Raised inside an activity by ``continuum.heartbeat()`` once it should stop.

    The run was cancelled (or finished), the task's lease was lost (taken over after a
    heartbeat timeout), or the worker is shutting down. Whatever the activity does next
    is not recorded: clean up and return or re-raise.
    """

    code = "activity_cancelled"

    def __init__(self, message: str, *, run_id: str = "", task_id: int | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.task_id = task_id


class TaskTokenError(ContinuumError):
    """A task token passed to ``complete_activity``/``fail_activity`` is not a task token."""

    code = "task_token"


class StaleTaskToken(TaskTokenError):
    """The task token no longer fences its task: nothing was written.

    The attempt it names was already completed or failed, timed out and was retried
    (a new attempt has a new token), or its run was cancelled.
    """

    code = "stale_task_token"


class SignalTimeout(WorkflowError):
    """``wait_signal(name, timeout=...)`` ran out before the signal arrived."""

    code = "signal_timeout"

    def __init__(self, message: str, *, signal: str = "") -> None:
        super().__init__(message)
        self.signal = signal


class ChildFailed(WorkflowError):
    """A child run failed or was cancelled. Raised inside the parent workflow."""

    code = "child_failed"

    def __init__(
        self,
        message: str,
        *,
        child_run_id: str = "",
        state: str = "failed",
        error: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.child_run_id = child_run_id
        self.state = state
        self.error = error or {}


class RunNotFound(RunError):
    """No run with that id exists."""

    code = "run_not_found"

    def __init__(self, run_id: str) -> None:
        super().__init__(
            f"no run with id {run_id!r}; list runs with `continuum runs list` "
            "or check the namespace/database you are connected to"
        )
        self.run_id = run_id


class RunTerminal(RunError):
    """The run already finished, so ``operation`` (signal, cancel, ...) cannot apply to it."""

    code = "run_terminal"

    def __init__(self, run_id: str, state: str, operation: str = "signal") -> None:
        super().__init__(
            f"cannot {operation} run {run_id!r}: it already finished ({state}); only running "
            "or suspended runs can be changed. See its outcome with "
            f"`continuum runs show {run_id}`"
        )
        self.run_id = run_id
        self.state = state
        self.operation = operation


class RunFailed(RunError):
    """The awaited run failed; ``error`` holds the recorded type, message and traceback."""

    code = "run_failed"

    def __init__(self, run_id: str, error: dict[str, Any] | None) -> None:
        err = error or {}
        detail = f"{err.get('type', 'Error')}: {err.get('message', '')}"
        super().__init__(f"run {run_id!r} failed with {detail}")
        self.run_id = run_id
        self.error = err


class RunCancelled(RunError):
    """The awaited run was cancelled."""

    code = "run_cancelled"

    def __init__(self, run_id: str) -> None:
        super().__init__(f"run {run_id!r} was cancelled")
        self.run_id = run_id


class ResultTimeout(RunError, TimeoutError):
    """``Client.result(timeout=...)`` ran out before the run finished."""

    code = "result_timeout"


class RunAlreadyExists(RunError):
    """``start(id=..., if_exists="error")`` named a run that already exists."""

    code = "run_already_exists"

    def __init__(self, run_id: str, state: str) -> None:
        super().__init__(
            f"cannot start run {run_id!r}: a run with that id already exists ({state}) and "
            'if_exists="error" was given; pick another id, or pass if_exists="return" to get '
            'the existing run or if_exists="restart_failed" to rerun a failed one'
        )
        self.run_id = run_id
        self.state = state


class ScheduleNotFound(ContinuumError):
    """No schedule with that id exists."""

    code = "schedule_not_found"

    def __init__(self, schedule_id: str, operation: str) -> None:
        super().__init__(
            f"cannot {operation} schedule {schedule_id!r}: no schedule has that id; list "
            "schedules with `continuum schedules list`"
        )
        self.schedule_id = schedule_id
        self.operation = operation


class ForkError(RunError):
    """``Client.fork`` cannot copy the run's journal at the requested point."""

    code = "fork_error"


class UpdateRejected(RunError):
    """The workflow answered ``Client.update`` with ``continuum.reject(upd, reason)``."""

    code = "update_rejected"

    def __init__(self, reason: str, *, run_id: str = "", update: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.run_id = run_id
        self.update = update


class UpdateTimeout(RunError, TimeoutError):
    """``Client.update(timeout=)`` or ``Client.get_event(timeout=)`` ran out first."""

    code = "update_timeout"


class UpdateAlreadyAnswered(WorkflowError):
    """``continuum.reply`` / ``continuum.reject`` on an update that was already answered."""

    code = "update_already_answered"


class Cancelled(BaseException):
    """Cooperative cancellation, raised inside a workflow at its current or next wait.

    ``Client.cancel(run_id, grace=...)`` delivers it. It is a ``BaseException`` so an
    ``except Exception`` does not swallow it: catch it explicitly (``except
    continuum.Cancelled:``) or use ``finally:`` to run cleanup effects, then return or
    re-raise; the run ends ``cancelled``.
    """

    def __init__(self, message: str = "the run was cancelled", *, run_id: str = "") -> None:
        super().__init__(message)
        self.run_id = run_id


__all__ = [
    "ActivityCancelled",
    "ActivityContextError",
    "ActivityFailed",
    "Cancelled",
    "ChildFailed",
    "ConfigurationError",
    "ContinuumError",
    "DatabaseUnavailable",
    "DefinitionError",
    "ForkError",
    "PayloadError",
    "ReplayDriftError",
    "ResultTimeout",
    "RunAlreadyExists",
    "RunCancelled",
    "RunError",
    "RunFailed",
    "RunNotFound",
    "RunTerminal",
    "ScheduleNotFound",
    "SignalTimeout",
    "StaleTaskToken",
    "SuspendLeakError",
    "TaskTokenError",
    "UpdateAlreadyAnswered",
    "UpdateRejected",
    "UpdateTimeout",
    "WorkflowContextError",
    "WorkflowError",
    "WorkflowNotRegistered",
]
