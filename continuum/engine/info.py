"""What a workflow may know about itself: :func:`info` and :data:`logger`."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any

from pydantic import BaseModel, ConfigDict

from continuum.engine.context import current_context, current_context_or_none


class WorkflowInfo(BaseModel):
    """The running workflow's identity (stable across replays of the run).

    ``attempt`` is the run's position in its ``continue_as_new`` chain: 1 for a run
    started by ``Client.start`` or as a child, n + 1 for the successor of run n.
    ``correlation_id`` is the chain's first run id (the child id for children).
    """

    model_config = ConfigDict(frozen=True)

    run_id: str
    workflow: str
    version_hash: str
    namespace: str
    attempt: int
    parent_run_id: str | None
    correlation_id: str


def info() -> WorkflowInfo:
    """The running workflow's :class:`WorkflowInfo` (not journaled: it never changes)."""
    ctx = current_context()
    inp = ctx.inp
    return WorkflowInfo(
        run_id=inp.run_id,
        workflow=ctx.workflow,
        version_hash=inp.version_hash,
        namespace=inp.namespace,
        attempt=inp.attempt,
        parent_run_id=inp.parent_run_id,
        correlation_id=inp.correlation_id or inp.run_id,
    )


class WorkflowLogger(logging.LoggerAdapter[logging.Logger]):
    """A logger for workflow code: silent while replaying, tagged with the run.

    Records carry ``continuum_run_id`` and ``continuum_workflow`` attributes and a
    ``[run <id> <workflow>]`` prefix. Outside a workflow it logs untagged.
    """

    def isEnabledFor(self, level: int) -> bool:
        ctx = current_context_or_none()
        if ctx is not None and ctx.replaying:
            return False
        return self.logger.isEnabledFor(level)

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, Any]:
        ctx = current_context_or_none()
        if ctx is None:
            return msg, kwargs
        extra = dict(kwargs.get("extra") or {})
        extra.setdefault("continuum_run_id", ctx.run_id)
        extra.setdefault("continuum_workflow", ctx.workflow)
        kwargs["extra"] = extra
        return f"[run {ctx.run_id} {ctx.workflow}] {msg}", kwargs


logger = WorkflowLogger(logging.getLogger("continuum.workflow"), {})
"""``continuum.logger``: use it in workflows instead of ``logging``/``print``."""
