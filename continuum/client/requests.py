"""What ``Client`` and ``AsyncClient`` share: checking and encoding a call before any I/O.

Every function here is pure (no database): a bad value raises before anything is
written, whichever client the caller uses.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from continuum import payloads
from continuum.client.base import not_in_workflow
from continuum.client.queues import check_queue
from continuum.definitions.registry import REGISTRY
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.durations import retention_seconds
from continuum.errors import (
    ConfigurationError,
    PayloadError,
    RunCancelled,
    RunFailed,
    WorkflowNotRegistered,
)
from continuum.journal.records import NewRun
from continuum.models import RunInfo, RunState
from continuum.tracecontext import current_traceparent
from continuum.validation import check_attribute_keys, check_name, check_new_run_id

IF_EXISTS = ("return", "error", "restart_failed")


def new_run(
    versions: VersionRegistry,
    flow: Workflow[Any, Any],
    input: Any,
    *,
    id: str | None,
    namespace: str,
    attributes: dict[str, Any] | None,
    retention: timedelta | None = None,
    queue: str | None = None,
    priority: int = 0,
    if_exists: str = "return",
    client: str = "Client",
) -> NewRun:
    """The row ``start`` inserts, or a clear error before any SQL runs."""
    if not isinstance(flow, Workflow):
        raise ConfigurationError(
            f"{client}.start expects a @continuum.workflow, got {type(flow).__name__}"
        )
    operation = f"{client}.start"
    check_queue(queue, priority, "start")
    if if_exists not in IF_EXISTS:
        raise ConfigurationError(
            f"{operation}: if_exists={if_exists!r} is not one of "
            "'return', 'error', 'restart_failed'"
        )
    if id is not None:
        check_new_run_id(id, operation=operation)
    check_name(namespace, what="the namespace", operation=operation)
    if attributes is not None and not isinstance(attributes, dict):
        raise PayloadError(f"{operation}: attributes must be a JSON object (a dict)")
    check_attribute_keys(attributes or {}, operation=operation)
    # Frozen modules carry only the name: the defaults come from the live definition.
    keep = retention if retention is not None else flow.retention
    # New runs start on the current built version, executed through its frozen module.
    flow = versions.for_start(flow)
    encoded = flow.encode_input(input)
    flow.decode_input(encoded)  # fails now, not in the first activation, on a bad type
    return NewRun(
        id=id or uuid.uuid4().hex,
        workflow=flow.name,
        version_hash=flow.version_hash,
        input=encoded,
        namespace=namespace,
        attributes=payloads.encode(attributes or {}, what="attributes"),
        retention_s=retention_seconds(keep, f"{client}.start"),
        queue=queue,
        priority=priority,
        trace_context=current_traceparent(),
    )


def signal_payload(name: str, payload: Any, client: str = "Client") -> Any:
    """The signal's JSON payload, after checking its name."""
    check_name(name, what="the signal name", operation=f"{client}.signal")
    return payloads.encode(payload, what=f"payload of signal {name!r}")


def attributes_payload(attributes: Any, client: str = "Client") -> dict[str, Any]:
    """Search attributes as JSON, or :class:`PayloadError`."""
    operation = f"{client}.set_attributes"
    if not isinstance(attributes, dict):
        raise PayloadError(f"{operation}: attributes must be a JSON object (a dict)")
    check_attribute_keys(attributes, operation=operation)
    encoded: dict[str, Any] = payloads.encode(attributes, what="attributes")
    return encoded


def outcome(info: RunInfo) -> Any:
    """The decoded result of a terminal run; ``RunFailed`` / ``RunCancelled`` otherwise."""
    if info.state == RunState.FAILED:
        raise RunFailed(info.id, info.error)
    if info.state == RunState.CANCELLED:
        raise RunCancelled(info.id)
    flow = REGISTRY.version(info.workflow, info.version_hash)
    if flow is None:
        try:
            flow = REGISTRY.workflow(info.workflow)
        except WorkflowNotRegistered:
            return info.result
    return flow.decode_result(info.result)


__all__ = [
    "IF_EXISTS",
    "attributes_payload",
    "new_run",
    "not_in_workflow",
    "outcome",
    "signal_payload",
]
