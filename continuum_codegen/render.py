"""Rendering frozen ``V_<hash>.py`` modules through jinja2.

A frozen module holds verbatim copies of the workflow function and of the same-module
functions and constants its hash covers, in source order, so that line offsets inside
each function (and so command identities) match the source. Everything else the copies
read is imported: the source module's own import statements (relative ones made
absolute, aliases kept) and ``from <source module> import ...`` for the remaining
module-level names (activities, models, classes, functions not reached).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import cast

import jinja2
import libcst as cst

from continuum_codegen.hashing import SCHEME, WorkflowHash
from continuum_codegen.modules import ModuleSource
from continuum_lint.source.closure import Member
from continuum_lint.source.scopes import global_reads

_LINE_LIMIT = 100


@cache
def environment() -> jinja2.Environment:
    """The jinja2 environment for codegen templates (no autoescape: we emit Python)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("continuum_codegen", "templates"),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        keep_trailing_newline=True,
    )


class _Absolutize(cst.CSTTransformer):
    """Rewrites relative ``from . import x`` so it works from the generated package."""

    def __init__(self, src: ModuleSource) -> None:
        super().__init__()
        self.src = src

    def leave_ImportFrom(
        self, original_node: cst.ImportFrom, updated_node: cst.ImportFrom
    ) -> cst.ImportFrom:
        if not updated_node.relative:
            return updated_node
        module = None
        if updated_node.module is not None:
            module = self.src.module.code_for_node(updated_node.module)
        target = self.src.absolute(len(updated_node.relative), module)
        expr = cast(cst.Attribute | cst.Name, cst.parse_expression(target))
        return updated_node.with_changes(relative=[], module=expr)


def _statement_code(src: ModuleSource, stmt: cst.BaseStatement, absolutize: bool = False) -> str:
    node = stmt.with_changes(leading_lines=[])
    if absolutize:
        node = cast(cst.BaseStatement, node.visit(_Absolutize(src)))
    return src.code_for(node).rstrip("\n")


class _BoundByImports(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self.names.add(node.asname.name.value)
        else:
            self.names.add(src_head(node.name))


def src_head(expr: cst.Attribute | cst.Name) -> str:
    """First component of a dotted import name (what ``import a.b`` binds)."""
    while isinstance(expr, cst.Attribute):
        expr = cast(cst.Attribute | cst.Name, expr.value)
    return expr.value


def _source_import_names(src: ModuleSource, copied: list[Member]) -> list[str]:
    """Module-level names the copied code reads that neither copies nor imports bind."""
    bound = {member.qualname for member in copied}
    visitor = _BoundByImports()
    for stmt in [*src.future_imports, *src.import_statements]:
        stmt.visit(visitor)
    bound |= visitor.names
    needed: set[str] = set()
    for member in copied:
        needed.update(read.name for read in global_reads(member.node, set(src.bindings)))
    return sorted(needed - bound)


def _from_import(module: str, names: list[str]) -> str:
    if not names:
        return ""
    line = f"from {module} import {', '.join(names)}"
    if len(line) <= _LINE_LIMIT:
        return line
    body = "".join(f"    {name},\n" for name in names)
    return f"from {module} import (\n{body})"


def render_frozen_module(result: WorkflowHash, source_path: str) -> str:
    """Text of the frozen module ``V_<hash>.py`` for one workflow version."""
    workflow = result.workflow
    src = workflow.source
    copied = sorted(
        (m for m in result.members if m.copied and m.source is src),
        key=lambda m: src.order[m.qualname],
    )
    template = environment().get_template("frozen_module.py.j2")
    return template.render(
        workflow_name=workflow.name,
        workflow_name_literal=json.dumps(workflow.name),
        source_path=source_path,
        source_module=src.name,
        qualname=workflow.qualname,
        hash=result.hash,
        scheme=SCHEME,
        future_imports=[_statement_code(src, s) for s in src.future_imports],
        import_statements=[_statement_code(src, s, absolutize=True) for s in src.import_statements],
        source_imports=_from_import(src.name, _source_import_names(src, copied)),
        definitions=[_statement_code(src, cast(cst.BaseStatement, m.node)) for m in copied],
    )


def render_package_init() -> str:
    """Text of the generated package's ``__init__.py``."""
    return environment().get_template("package_init.py.j2").render()


def frozen_filename(version_hash: str) -> str:
    """``V_<hash>.py``."""
    return f"V_{version_hash}.py"


def relative_posix(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` in POSIX form (absolute when outside ``root``)."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()
