"""Finding workflow functions in the modules listed by ``[tool.continuum] workflows``.

Discovery is the source model's (:mod:`continuum_lint.source.discover`), the one the
scanner checks with; this module only maps its errors to codegen's.
"""

from __future__ import annotations

from collections.abc import Sequence

from continuum_codegen.modules import ModuleCache, translated
from continuum_lint.source import discover as model

WorkflowDef = model.WorkflowDef
has_decorator = model.has_decorator
is_continuum_api = model.is_continuum_api

__all__ = ["WorkflowDef", "discover", "has_decorator", "is_continuum_api"]


def discover(modules: Sequence[str], cache: ModuleCache) -> list[WorkflowDef]:
    """All workflows in ``modules``; raises when two share a logical name."""
    with translated():
        return model.discover(modules, cache)
