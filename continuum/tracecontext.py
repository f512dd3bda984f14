"""The caller's W3C ``traceparent``, read without depending on OpenTelemetry.

``Client.start`` stores it in ``continuum_runs.trace_context`` so that every later attempt
of the run can join the caller's trace (see :mod:`continuum.otel`). Core never imports
OpenTelemetry: when the application has not imported ``opentelemetry.trace`` there can be
no current span, and this returns ``None``.
"""

from __future__ import annotations

import re
import sys

_TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def current_traceparent() -> str | None:
    """``00-<trace id>-<span id>-<flags>`` of the current span, or ``None``."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    try:
        ctx = trace.get_current_span().get_span_context()
        if not ctx.is_valid:
            return None
        return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags) & 0xFF:02x}"
    except Exception:  # tracing must never break a start
        return None


def is_traceparent(value: object) -> bool:
    """Whether ``value`` is a well-formed version-00 ``traceparent``."""
    return isinstance(value, str) and _TRACEPARENT.match(value) is not None
