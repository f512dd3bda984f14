"""Finding workflows, ``@pure`` helpers and activities in a parsed module.

A workflow is a module-level ``def`` decorated with ``@continuum.workflow``,
``@continuum.workflow(...)`` or any alias of it (``from continuum import workflow as wf``,
``import continuum as c``, ``wf = continuum.workflow``). Its logical name is the
decorator's ``name="..."`` argument, else ``"<module>:<qualname>"`` — the same default
the runtime uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import libcst as cst

from continuum_lint.source.errors import SourceError
from continuum_lint.source.modules import ModuleCache, ModuleSource, dotted

Kind = Literal["workflow", "pure", "activity", "plain"]


def is_continuum_api(qualified: str | None, attr: str) -> bool:
    """True when ``qualified`` names ``continuum.<attr>`` (or a submodule re-export of it)."""
    if qualified is None:
        return False
    return qualified == f"continuum.{attr}" or (
        qualified.startswith("continuum.") and qualified.endswith(f".{attr}")
    )


def resolve(src: ModuleSource, expr: cst.BaseExpression, depth: int = 0) -> str | None:
    """The qualified name of a Name/Attribute chain: imports, then module-level aliases
    (``wf = continuum.workflow``)."""
    found = src.qualified_name(expr)
    if found is not None or depth > 4:
        return found
    text = dotted(expr)
    if text is None:
        return None
    head, _, rest = text.partition(".")
    stmt = src.constants.get(head)
    if stmt is None:
        return None
    small = stmt.body[0]
    value = small.value if isinstance(small, cst.Assign | cst.AnnAssign) else None
    if not isinstance(value, cst.Name | cst.Attribute):
        return None
    base = resolve(src, value, depth + 1)
    return None if base is None else base + (f".{rest}" if rest else "")


def decorator_target(src: ModuleSource, decorator: cst.Decorator) -> str | None:
    """Qualified name of what a decorator applies (the callee for ``@d(...)``)."""
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    return resolve(src, expr)


def has_decorator(src: ModuleSource, func: cst.FunctionDef, attr: str) -> bool:
    """True when ``func`` carries ``@continuum.<attr>`` in any spelling."""
    return any(is_continuum_api(decorator_target(src, d), attr) for d in func.decorators)


def kind_of(src: ModuleSource, func: cst.FunctionDef) -> Kind:
    """``workflow``, ``pure`` or ``activity`` when decorated so, else ``plain``."""
    for decorator in func.decorators:
        target = decorator_target(src, decorator)
        for kind in ("workflow", "pure", "activity"):
            if is_continuum_api(target, kind):
                return kind
    return "plain"


@dataclass(frozen=True)
class WorkflowDef:
    """One workflow function found in a source module."""

    name: str
    module: str
    qualname: str
    source: ModuleSource
    node: cst.FunctionDef

    @property
    def line(self) -> int:
        """Line of the ``def`` keyword in the source file."""
        return self.source.line_of(self.node.name)


def _logical_name(src: ModuleSource, func: cst.FunctionDef) -> str:
    for decorator in func.decorators:
        expr = decorator.decorator
        if not (
            isinstance(expr, cst.Call)
            and is_continuum_api(decorator_target(src, decorator), "workflow")
        ):
            continue
        for arg in expr.args:
            if arg.keyword is None or arg.keyword.value != "name":
                continue
            value = arg.value
            if isinstance(value, cst.SimpleString | cst.ConcatenatedString):
                literal = value.evaluated_value
                if isinstance(literal, str):
                    return literal
            line = src.line_of(value)
            raise SourceError(
                f"{src.path}:{line}: workflow name= must be a string literal so "
                "`continuum build` can read it without running the module"
            )
    return f"{src.name}:{func.name.value}"


def roots_in(src: ModuleSource) -> list[tuple[cst.FunctionDef, Kind]]:
    """Module-level workflows and ``@pure`` helpers, in source order."""
    found: list[tuple[cst.FunctionDef, Kind]] = []
    for stmt in src.module.body:
        if isinstance(stmt, cst.FunctionDef):
            kind = kind_of(src, stmt)
            if kind in ("workflow", "pure"):
                found.append((stmt, kind))
    return found


def workflows_in(src: ModuleSource, *, strict: bool = True) -> list[WorkflowDef]:
    """Workflow functions defined at module level in ``src``, in source order.

    ``strict=False`` (the scanner) falls back to the default name instead of raising
    for a ``name=`` that is not a literal.
    """
    found: list[WorkflowDef] = []
    for stmt, kind in roots_in(src):
        if kind != "workflow":
            continue
        try:
            name = _logical_name(src, stmt)
        except SourceError:
            if strict:
                raise
            name = f"{src.name}:{stmt.name.value}"
        found.append(WorkflowDef(name, src.name, stmt.name.value, src, stmt))
    return found


def discover(modules: Sequence[str], cache: ModuleCache) -> list[WorkflowDef]:
    """All workflows in ``modules``; raises when two share a logical name."""
    found: list[WorkflowDef] = []
    seen: dict[str, WorkflowDef] = {}
    for module in modules:
        for workflow in workflows_in(cache.get(module)):
            previous = seen.get(workflow.name)
            if previous is not None:
                raise SourceError(
                    f"{workflow.source.path}:{workflow.line}: workflow name {workflow.name!r} is "
                    f"already used by {previous.module}:{previous.qualname}"
                )
            seen[workflow.name] = workflow
            found.append(workflow)
    return found
