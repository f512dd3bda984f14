"""Continuum: durable workflows for Python on PostgreSQL.

Define workflows and activities with the decorators, call the workflow-side API
(``execute``, ``wait_signal``, ``sleep``, ...) inside workflows, and drive runs with
:class:`Client` and :class:`Worker` — or :mod:`continuum.testing` in unit tests.
"""

import importlib
import typing

from continuum import telemetry
from continuum.definitions import Activity, Backoff, Workflow, activity, pure, workflow
from continuum.definitions.activity_context import (
    ActivityInfo,
    activity_info,
    complete_later,
    heartbeat,
    heartbeat_details,
)
from continuum.durations import days, hours, minutes, seconds
from continuum.engine.activities import (
    ActivityHandle,
    ActivityRef,
    Compensation,
    compensation,
    execute,
    gather,
    start_activity,
)
from continuum.engine.api import (
    continue_as_new,
    now,
    patched,
    random,
    side_effect,
    sleep,
    today,
    uuid4,
    wait_signal,
)
from continuum.engine.children import ChildRef, child, start_child, wait_child
from continuum.engine.info import WorkflowInfo, WorkflowLogger, info, logger
from continuum.engine.messages import Update, reject, reply, set_event, wait_update
from continuum.engine.saga import compensate, compensate_all, unwrap
from continuum.errors import (
    ActivityCancelled,
    ActivityContextError,
    ActivityFailed,
    Cancelled,
    ChildFailed,
    ConfigurationError,
    ContinuumError,
    DatabaseUnavailable,
    DefinitionError,
    ForkError,
    PayloadError,
    ReplayDriftError,
    ResultTimeout,
    RunAlreadyExists,
    RunCancelled,
    RunError,
    RunFailed,
    RunNotFound,
    RunTerminal,
    ScheduleNotFound,
    SignalTimeout,
    StaleTaskToken,
    SuspendLeakError,
    TaskTokenError,
    UpdateAlreadyAnswered,
    UpdateRejected,
    UpdateTimeout,
    WorkflowContextError,
    WorkflowError,
    WorkflowNotRegistered,
)
from continuum.models import Page, QueueInfo, RunInfo, RunState, ScheduleInfo

__version__ = "0.1.0"

# The client and the worker pull in psycopg and the runtime (~150 ms); workflow modules
# import ``continuum`` too and need neither, so these load on first attribute access.
_LAZY = {
    "AsyncClient": "continuum.client.async_client",
    "Client": "continuum.client.client",
    "Worker": "continuum.runtime.worker",
}


# Optional parts, reachable as ``continuum.observer.app(...)`` after ``import continuum``.
_SUBMODULES = frozenset({"observer", "otel", "testing"})


def __getattr__(name: str) -> typing.Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"continuum.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'continuum' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if typing.TYPE_CHECKING:
    from continuum.client.async_client import AsyncClient
    from continuum.client.client import Client
    from continuum.runtime.worker import Worker

__all__ = [
    "Activity",
    "ActivityCancelled",
    "ActivityContextError",
    "ActivityFailed",
    "ActivityHandle",
    "ActivityInfo",
    "ActivityRef",
    "AsyncClient",
    "Backoff",
    "Cancelled",
    "ChildFailed",
    "ChildRef",
    "Client",
    "Compensation",
    "ConfigurationError",
    "ContinuumError",
    "DatabaseUnavailable",
    "DefinitionError",
    "ForkError",
    "Page",
    "PayloadError",
    "QueueInfo",
    "ReplayDriftError",
    "ResultTimeout",
    "RunAlreadyExists",
    "RunCancelled",
    "RunError",
    "RunFailed",
    "RunInfo",
    "RunNotFound",
    "RunState",
    "RunTerminal",
    "ScheduleInfo",
    "ScheduleNotFound",
    "SignalTimeout",
    "StaleTaskToken",
    "SuspendLeakError",
    "TaskTokenError",
    "Update",
    "UpdateAlreadyAnswered",
    "UpdateRejected",
    "UpdateTimeout",
    "Worker",
    "Workflow",
    "WorkflowContextError",
    "WorkflowError",
    "WorkflowInfo",
    "WorkflowLogger",
    "WorkflowNotRegistered",
    "__version__",
    "activity",
    "activity_info",
    "child",
    "compensate",
    "compensate_all",
    "compensation",
    "complete_later",
    "continue_as_new",
    "days",
    "execute",
    "gather",
    "heartbeat",
    "heartbeat_details",
    "hours",
    "info",
    "logger",
    "minutes",
    "now",
    "patched",
    "pure",
    "random",
    "reject",
    "reply",
    "seconds",
    "set_event",
    "side_effect",
    "sleep",
    "start_activity",
    "start_child",
    "telemetry",
    "today",
    "unwrap",
    "uuid4",
    "wait_child",
    "wait_signal",
    "wait_update",
    "workflow",
]
