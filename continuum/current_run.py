"""Whether the current thread or task is running workflow code: one context variable.

The engine sets :data:`RUN_CONTEXT` to its ``RunContext`` for the duration of an
activation (see :mod:`continuum.engine.context`). Layers that must not depend on the
engine — definitions (an activity called from a workflow) and the client (its calls are
effects, refused inside a workflow) — only ask :func:`in_workflow`.
"""

from __future__ import annotations

from contextvars import ContextVar

RUN_CONTEXT: ContextVar[object | None] = ContextVar("continuum_run_context", default=None)
"""The engine's ``RunContext`` of the running workflow, or ``None`` outside workflows."""


def in_workflow() -> bool:
    """True while workflow code is running in this thread or task."""
    return RUN_CONTEXT.get() is not None
