"""Version diffs before deploy: did a changed workflow's static effect graph change?

The new code's graph comes from its closure in the source model; the previous current
version's from its frozen ``V_<hash>.py`` module, which is a verbatim copy of that
version's workflow and same-module helpers (so its command identities, qualified name
plus line offset, are the ones runs journaled on it carry). Equal graphs mean the edit
issues the same commands at the same identities: a *safe edit*. Otherwise the change
needs ``continuum.patched()`` or a new workflow version for runs already in flight.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from continuum_codegen.discover import WorkflowDef
from continuum_codegen.hashing import WorkflowHash
from continuum_codegen.modules import ModuleCache
from continuum_codegen.render import frozen_filename, relative_posix
from continuum_lint.source.closure import closure, root_member
from continuum_lint.source.discover import workflows_in
from continuum_lint.source.effects import Effect, effect_graph, graph_changed
from continuum_lint.source.errors import ModelError
from continuum_lint.source.modules import parse_module


@dataclass(frozen=True)
class EffectDiff:
    """How a workflow's effect graph compares with its previous current version's."""

    previous: str
    changed: bool
    lines: tuple[str, ...] = ()
    effects: int = 0
    note: str = ""

    @property
    def verdict(self) -> str:
        """``safe edit`` or ``needs continuum.patched() or a new version``."""
        if self.note:
            return f"effect graph unknown ({self.note})"
        if self.changed:
            return "effect graph changed: needs continuum.patched() or a new version"
        return "effect graph unchanged: safe edit"


def new_graph(result: WorkflowHash, project_root: Path) -> list[Effect]:
    """The effect graph of the workflow's current source."""
    assert result.closure is not None
    src = result.workflow.source
    return effect_graph(result.closure, {src.name: relative_posix(src.path, project_root)})


def previous_graph(
    workflow: WorkflowDef,
    generated: Path,
    package: str,
    previous: str,
    cache: ModuleCache,
    project_root: Path,
) -> list[Effect]:
    """The effect graph of the frozen module of version ``previous``.

    Raises :class:`~continuum_lint.source.errors.ModelError` when it cannot be read.
    """
    path = generated / frozen_filename(previous)
    name = f"{package}.{frozen_filename(previous)[:-3]}"
    src = parse_module(name, path, False)
    for found in workflows_in(src, strict=False):
        if found.qualname == workflow.qualname:
            graph = closure(root_member(src, found.node, "workflow"), cache)
            return effect_graph(graph, {src.name: relative_posix(path, project_root)})
    raise ModelError(f"{path}: no workflow {workflow.qualname!r} in the frozen module")


def compare(
    workflow: WorkflowDef,
    result: WorkflowHash,
    previous: str,
    generated: Path,
    package: str,
    cache: ModuleCache,
    project_root: Path,
) -> EffectDiff:
    """Compare the new code's effect graph with version ``previous``'s."""
    new = new_graph(result, project_root)
    try:
        old = previous_graph(workflow, generated, package, previous, cache, project_root)
    except (ModelError, OSError) as exc:
        return EffectDiff(previous, True, (), len(new), note=str(exc))
    lines = graph_changed(old, new)
    return EffectDiff(previous, bool(lines), tuple(lines), len(new))
