"""Finding workflow functions in the modules listed by ``[tool.continuum] workflows``.

A workflow is a module-level ``def`` decorated with ``@continuum.workflow``,
``@continuum.workflow(...)`` or any alias of it (``from continuum import workflow as wf``,
``import continuum as c``). Its logical name is the decorator's ``name="..."`` argument,
else ``"<module>:<qualname>"`` — the same default the runtime uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from continuum_codegen.errors import SourceError
from continuum_codegen.modules import ModuleCache, ModuleSource


def is_continuum_api(qualified: str | None, attr: str) -> bool:
    """True when ``qualified`` names ``continuum.<attr>`` (or a submodule re-export of it)."""
    if qualified is None:
        return False
    return qualified == f"continuum.{attr}" or (
        qualified.startswith("continuum.") and qualified.endswith(f".{attr}")
    )


def decorator_target(src: ModuleSource, decorator: cst.Decorator) -> str | None:
    """Qualified name of what a decorator applies (the callee for ``@d(...)``)."""
    expr = decorator.decorator
    if isinstance(expr, cst.Call):
        expr = expr.func
    return src.qualified_name(expr)


def has_decorator(src: ModuleSource, func: cst.FunctionDef, attr: str) -> bool:
    """True when ``func`` carries ``@continuum.<attr>`` in any spelling."""
    return any(is_continuum_api(decorator_target(src, d), attr) for d in func.decorators)


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


def workflows_in(src: ModuleSource) -> list[WorkflowDef]:
    """Workflow functions defined at module level in ``src``, in source order."""
    found: list[WorkflowDef] = []
    for stmt in src.module.body:
        if isinstance(stmt, cst.FunctionDef) and has_decorator(src, stmt, "workflow"):
            found.append(
                WorkflowDef(
                    name=_logical_name(src, stmt),
                    module=src.name,
                    qualname=stmt.name.value,
                    source=src,
                    node=stmt,
                )
            )
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
