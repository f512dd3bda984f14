"""OpenTelemetry bridge: Continuum's telemetry events as spans (extra ``otel``).

>>> bridge = continuum.otel.setup()          # the global tracer provider
>>> bridge = continuum.otel.setup(provider)  # or your own

Spans (short, one per attempt, produced by the worker that ran the attempt):

- ``continuum.run_attempt``: one activation of a run (from claim to commit), with
  ``continuum.run_id``, ``continuum.workflow``, ``continuum.outcome``
  (``suspended``/``completed``/...), ``continuum.resumed_at_seq`` and
  ``continuum.instance``; child starts and ``continue_as_new`` are recorded on it as
  span events (breadcrumbs).
- ``continuum.activity_attempt`` (``continuum.compensation_attempt`` for compensations):
  one attempt of an activity task, with ``continuum.run_id``, ``continuum.activity``,
  ``continuum.attempt``, ``continuum.task_id`` and the outcome.

``Client.start`` stores the caller's W3C ``traceparent`` in the run's ``trace_context``;
every span above is created as a child of that context, so every attempt of the run —
on any worker, after any crash or deploy — lands in the caller's trace. A run started
without a current span has each attempt in a trace of its own.

Continuum's core never imports this module or OpenTelemetry.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from continuum import telemetry
from continuum.errors import ConfigurationError
from continuum.tracecontext import is_traceparent

try:
    from opentelemetry import trace
    from opentelemetry.context import Context
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
except ImportError as exc:  # pragma: no cover - exercised by the no-otel subprocess test
    raise ConfigurationError(
        "continuum.otel needs OpenTelemetry: pip install 'continuum[otel]' "
        f"(opentelemetry-api and opentelemetry-sdk); import failed: {exc}"
    ) from exc

__all__ = ["ATTRIBUTES", "SPAN_NAMES", "OtelBridge", "setup"]

RUN_SPAN = "continuum.run_attempt"
ACTIVITY_SPAN = "continuum.activity_attempt"
COMPENSATION_SPAN = "continuum.compensation_attempt"
SPAN_NAMES = frozenset({RUN_SPAN, ACTIVITY_SPAN, COMPENSATION_SPAN})
ATTRIBUTES = frozenset(
    {
        "continuum.run_id",
        "continuum.workflow",
        "continuum.activity",
        "continuum.attempt",
        "continuum.task_id",
        "continuum.outcome",
        "continuum.instance",
        "continuum.resumed_at_seq",
        "continuum.waiting_on",
    }
)
"""Every attribute key the bridge sets on its spans (breadcrumb events aside)."""

_RUN_OUTCOMES = {
    "run.completed": "completed",
    "run.failed": "failed",
    "run.cancelled": "cancelled",
    "run.continued_as_new": "continued_as_new",
    "run.suspended": "suspended",
}
_BREADCRUMBS = frozenset(
    {"child.started", "child.completed", "child.failed", "child.cancelled", "patched.hit"}
)
_TASK_STARTS = frozenset({"activity.started", "compensation.started"})
_TASK_ENDS = {
    "activity.completed": "completed",
    "activity.failed": "failed",
    "activity.retry": "retry",
    "activity.fenced": "fenced",
    "compensation.completed": "completed",
    "compensation.failed": "failed",
    "compensation.retry": "retry",
}
_propagator = TraceContextTextMapPropagator()


def _parent(meta: dict[str, Any]) -> Context | None:
    carrier = meta.get("trace_context")
    if not is_traceparent(carrier):
        return None
    return _propagator.extract({"traceparent": carrier})


def _attr(value: Any) -> Any:
    return value if isinstance(value, str | bool | int | float) else str(value)


@dataclass
class OtelBridge:
    """The attached bridge; :meth:`close` detaches it."""

    tracer: trace.Tracer
    _handler: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _open_tasks: dict[tuple[Any, Any], Span] = field(default_factory=dict)
    _breadcrumbs: dict[str, list[tuple[str, dict[str, Any], int]]] = field(default_factory=dict)

    def close(self) -> None:
        """Stop producing spans (spans of attempts in flight are ended now)."""
        if self._handler is not None:
            telemetry.detach(self._handler)
            self._handler = None
        with self._lock:
            spans = list(self._open_tasks.values())
            self._open_tasks.clear()
        for span in spans:
            span.end()

    # -- the telemetry handler ----------------------------------------------------
    def handle(self, event: str, meta: dict[str, Any]) -> None:
        if event in _RUN_OUTCOMES:
            self._run_attempt(event, meta)
        elif event in _BREADCRUMBS or event == "run.continued_as_new":
            self._breadcrumb(event, meta)
        elif event in _TASK_STARTS:
            self._task_started(event, meta)
        elif event in _TASK_ENDS:
            self._task_ended(event, meta)

    def _breadcrumb(self, event: str, meta: dict[str, Any]) -> None:
        run_id = meta.get("run_id")
        if not isinstance(run_id, str):
            return
        attrs = {f"continuum.{k}": _attr(v) for k, v in meta.items() if v is not None}
        with self._lock:
            self._breadcrumbs.setdefault(run_id, []).append((event, attrs, time.time_ns()))

    def _run_attempt(self, event: str, meta: dict[str, Any]) -> None:
        run_id = str(meta.get("run_id", ""))
        if event == "run.continued_as_new":
            self._breadcrumb(event, meta)
        with self._lock:
            crumbs = self._breadcrumbs.pop(run_id, [])
        started = meta.get("attempt_started_ns")
        attributes: dict[str, Any] = {
            "continuum.run_id": run_id,
            "continuum.workflow": str(meta.get("workflow", "")),
            "continuum.outcome": _RUN_OUTCOMES[event],
            "continuum.instance": str(meta.get("instance", "")),
        }
        if isinstance(meta.get("resumed_at_seq"), int):
            attributes["continuum.resumed_at_seq"] = meta["resumed_at_seq"]
        if meta.get("waiting_on"):
            attributes["continuum.waiting_on"] = _attr(meta["waiting_on"])
        span = self.tracer.start_span(
            RUN_SPAN,
            context=_parent(meta),
            kind=SpanKind.INTERNAL,
            attributes=attributes,
            start_time=started if isinstance(started, int) else None,
        )
        for name, attrs, at in crumbs:
            span.add_event(name, attributes=attrs, timestamp=at)
        if event == "run.failed":
            span.set_status(Status(StatusCode.ERROR, str(meta.get("error") or "run failed")))
        span.end()

    def _task_key(self, meta: dict[str, Any]) -> tuple[Any, Any]:
        return (meta.get("task_id"), meta.get("attempt"))

    def _task_span(self, event: str, meta: dict[str, Any]) -> Span:
        name = COMPENSATION_SPAN if event.startswith("compensation.") else ACTIVITY_SPAN
        return self.tracer.start_span(
            name,
            context=_parent(meta),
            kind=SpanKind.INTERNAL,
            attributes={
                "continuum.run_id": str(meta.get("run_id", "")),
                "continuum.activity": str(meta.get("activity", "")),
                "continuum.attempt": int(meta.get("attempt") or 0),
                "continuum.task_id": _attr(meta.get("task_id")),
                "continuum.instance": str(meta.get("instance", "")),
            },
        )

    def _task_started(self, event: str, meta: dict[str, Any]) -> None:
        if meta.get("task_id") is None:
            return  # a local activity: part of its run attempt
        span = self._task_span(event, meta)
        with self._lock:
            self._open_tasks[self._task_key(meta)] = span

    def _task_ended(self, event: str, meta: dict[str, Any]) -> None:
        if meta.get("task_id") is None:
            return
        with self._lock:
            span = self._open_tasks.pop(self._task_key(meta), None)
        if span is None:  # e.g. the activity could not even be looked up
            span = self._task_span(event, meta)
        outcome = _TASK_ENDS[event]
        span.set_attribute("continuum.outcome", outcome)
        if outcome in ("failed", "retry"):
            span.set_status(Status(StatusCode.ERROR, str(meta.get("error") or outcome)))
        span.end()


_current: OtelBridge | None = None
_setup_lock = threading.Lock()


def setup(tracer_provider: TracerProvider | None = None) -> OtelBridge:
    """Subscribe to Continuum's telemetry and produce spans with ``tracer_provider``
    (default: OpenTelemetry's global provider). Calling it again replaces the previous
    bridge. Returns the bridge (``bridge.close()`` detaches it)."""
    global _current
    from continuum import __version__

    tracer = trace.get_tracer("continuum", __version__, tracer_provider=tracer_provider)
    bridge = OtelBridge(tracer)
    with _setup_lock:
        if _current is not None:
            _current.close()
        bridge._handler = telemetry.attach("*", bridge.handle)
        _current = bridge
    return bridge
