"""A parsed module: metadata, workflow/pure functions, and name resolution.

Names are resolved with libcst's qualified-name metadata (imports and ``as`` aliases),
then by what that metadata leaves out: assignment aliases (``D = datetime.datetime``),
values built from tracked classes (``client = continuum.Client()``), parameters
annotated with them, ``getattr(x, "literal")`` and star imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst
from libcst.metadata import (
    Assignment,
    CodeRange,
    GlobalScope,
    MetadataWrapper,
    PositionProvider,
    QualifiedNameSource,
    Scope,
    ScopeProvider,
)

from continuum_lint.denylist import Denylist
from continuum_lint.trust import (
    CLIENT_TYPES,
    DECORATORS,
    SAGA_MARKERS,
    WORKFLOW_API,
    normalize_continuum,
)
from continuum_lint.walk import children

Kind = Literal["workflow", "pure", "activity", "plain"]

TRACKED_TYPES: frozenset[str] = frozenset(
    {f"continuum.{name}" for name in CLIENT_TYPES}
    | {"pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath"}
)
"""Classes whose instances the resolver follows through variables (``c = Client()``)."""

_EXTERNAL = (QualifiedNameSource.IMPORT, QualifiedNameSource.BUILTIN)
_MAX_DEPTH = 8


@dataclass(eq=False)
class FunctionInfo:
    """A function the scanner may check: top-level or a method of a top-level class."""

    name: str
    node: cst.FunctionDef
    kind: Kind
    module: ModuleInfo

    @property
    def line(self) -> int:
        """The line of the ``def``."""
        return self.module.position(self.node)[0]


@dataclass(eq=False)
class ModuleInfo:
    """Everything the rules need to know about one parsed file."""

    path: str
    source: str
    wrapper: MetadataWrapper
    denylist: Denylist
    scopes: Mapping[cst.CSTNode, Scope | None] = field(default_factory=dict)
    positions: Mapping[cst.CSTNode, CodeRange] | None = None
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    classes: dict[str, cst.ClassDef] = field(default_factory=dict)
    values: dict[int, cst.BaseExpression] = field(default_factory=dict)
    star_modules: list[str] = field(default_factory=list)
    uses_sagas: bool = False
    check_sagas: bool = True

    @classmethod
    def parse(cls, source: str, path: str, denylist: Denylist) -> ModuleInfo:
        """Parse ``source`` (raises ``libcst.ParserSyntaxError``) and index it."""
        wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
        info = cls(path, source, wrapper, denylist)
        info.scopes = wrapper.resolve(ScopeProvider)
        info.check_sagas = "compensat" in source
        _Indexer(info).walk(wrapper.module)
        return info

    @property
    def module(self) -> cst.Module:
        """The parsed module."""
        return self.wrapper.module

    def position(self, node: cst.CSTNode) -> tuple[int, int]:
        """1-based line and 0-based column of ``node``.

        Positions cost a full code-generation pass, so they are computed on first use:
        a workflow file without findings never pays for them.
        """
        if self.positions is None:
            self.positions = self.wrapper.resolve(PositionProvider)
        where = self.positions.get(node)
        if where is None:
            return (1, 0)
        return (where.start.line, where.start.column)

    def roots(self) -> list[FunctionInfo]:
        """Workflows and ``@pure`` helpers, in source order."""
        return [f for f in self.functions.values() if f.kind in ("workflow", "pure")]

    # -- resolution ---------------------------------------------------------------

    def resolve(self, node: cst.CSTNode, depth: int = 0) -> str | None:
        """The fully qualified name ``node`` refers to, if it comes from an import/builtin.

        Names from continuum are normalized (``continuum.engine.api.execute`` →
        ``continuum.execute``). Returns ``None`` for local values and anything unknown.
        """
        if depth > _MAX_DEPTH:
            return None
        scope = self.scopes.get(node)
        if scope is not None and _dotted(node):
            names = sorted(
                q.name for q in scope.get_qualified_names_for(node) if q.source in _EXTERNAL
            )
            if names:
                return normalize_continuum(names[0])
        if isinstance(node, cst.Name):
            return self._resolve_local(node, scope, depth)
        if isinstance(node, cst.Attribute):
            base = self.resolve(node.value, depth + 1)
            return f"{base}.{node.attr.value}" if base else None
        if isinstance(node, cst.Call):
            return self._resolve_call_value(node, depth)
        return None

    def _resolve_local(self, node: cst.Name, scope: Scope | None, depth: int) -> str | None:
        if scope is None:
            return None
        assignments = scope[node.value]
        if not assignments:
            return self._resolve_star(node.value)
        if len(assignments) != 1:
            return None
        (assignment,) = assignments
        if not isinstance(assignment, Assignment):
            return None
        target = assignment.node
        if isinstance(target, cst.Param):
            if target.annotation is not None:
                typ = self.resolve(target.annotation.annotation, depth + 1)
                if typ in TRACKED_TYPES:
                    return typ
            return None
        value = self.values.get(id(target))
        if value is None:
            return None
        if isinstance(value, cst.Name | cst.Attribute):
            return self.resolve(value, depth + 1)
        if isinstance(value, cst.Call):
            return self._resolve_call_value(value, depth)
        return None

    def _resolve_call_value(self, call: cst.Call, depth: int) -> str | None:
        """``getattr(x, "name")`` → ``x.name``; ``TrackedClass(...)`` → the class."""
        func = self.resolve(call.func, depth + 1)
        if func == "builtins.getattr" and len(call.args) >= 2:
            literal = call.args[1].value
            if isinstance(literal, cst.SimpleString):
                base = self.resolve(call.args[0].value, depth + 1)
                name = literal.evaluated_value
                if base and isinstance(name, str):
                    return f"{base}.{name}"
            return None
        if func in TRACKED_TYPES:
            return func
        return None

    def _resolve_star(self, name: str) -> str | None:
        for module in self.star_modules:
            candidate = normalize_continuum(f"{module}.{name}")
            if self.denylist.knows(candidate):
                return candidate
            if module == "continuum" and (
                name in WORKFLOW_API or name in DECORATORS or name in CLIENT_TYPES
            ):
                return candidate
        return None

    # -- questions rules ask --------------------------------------------------------

    def binding(self, node: cst.Name) -> str:
        """How ``node`` is bound where it is used.

        One of ``"param"``, ``"local"`` (a variable in a function), ``"closure"`` (a nested
        def or lambda), ``"module-function"``, ``"module-class"``, ``"module-value"``,
        ``"import"``, ``"builtin"``, or ``"unknown"``.
        """
        scope = self.scopes.get(node)
        if scope is None:
            return "unknown"
        assignments = scope[node.value]
        if not assignments:
            return "unknown"
        kinds = {self._binding_kind(a) for a in assignments}
        return kinds.pop() if len(kinds) == 1 else "local"

    def _binding_kind(self, assignment: object) -> str:
        if not isinstance(assignment, Assignment):
            return "import" if type(assignment).__name__ == "ImportAssignment" else "builtin"
        target = assignment.node
        module_level = isinstance(assignment.scope, GlobalScope)
        if isinstance(target, cst.Param):
            return "param"
        if isinstance(target, cst.FunctionDef):
            return "module-function" if module_level else "closure"
        if isinstance(target, cst.ClassDef):
            return "module-class" if module_level else "closure"
        if isinstance(target, cst.Import | cst.ImportFrom):
            return "import"
        value = self.values.get(id(target))
        if isinstance(value, cst.Lambda):
            return "closure"
        return "module-value" if module_level else "local"

    def decorator_kind(self, node: cst.FunctionDef) -> Kind:
        """``workflow``, ``pure`` or ``activity`` when decorated so (however imported)."""
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            qname = self.resolve(expr)
            if qname and qname.startswith("continuum."):
                last = qname.rsplit(".", 1)[1]
                if last == "workflow":
                    return "workflow"
                if last == "pure":
                    return "pure"
                if last == "activity":
                    return "activity"
        return "plain"


def _dotted(node: cst.CSTNode) -> bool:
    """``a.b.c``: only names and attributes (libcst's metadata reads ``f().x`` as ``f.x``)."""
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)


class _Indexer:
    """One walk over the module: functions, classes, assigned values, star imports, sagas."""

    def __init__(self, info: ModuleInfo) -> None:
        self.info = info
        self.depth = 0
        self.class_stack: list[str] = []

    def walk(self, node: cst.CSTNode) -> None:
        """Index ``node`` and everything under it."""
        visit = getattr(self, f"visit_{type(node).__name__}", None)
        if visit is not None:
            visit(node)
        for child in children(node):
            self.walk(child)
        leave = getattr(self, f"leave_{type(node).__name__}", None)
        if leave is not None:
            leave(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.depth == 0 or (self.depth == 1 and self.class_stack):
            name = ".".join([*self.class_stack, node.name.value])
            kind = self.info.decorator_kind(node)
            self.info.functions[name] = FunctionInfo(name, node, kind, self.info)
        self.depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.depth -= 1

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if self.depth == 0:
            self.info.classes[node.name.value] = node
        self.class_stack.append(node.name.value)
        self.depth += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.class_stack.pop()
        self.depth -= 1

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.info.values[id(target.target)] = node.value

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self.info.values[id(node.target)] = node.value

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None and isinstance(node.asname.name, cst.Name):
            self.info.values[id(node.asname.name)] = node.item

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar) and node.module is not None:
            dots = "." * len(node.relative)
            module = cst.Module([]).code_for_node(node.module)
            self.info.star_modules.append(dots + module)

    def visit_Call(self, node: cst.Call) -> None:
        if self.info.uses_sagas or not self.info.check_sagas:
            return
        for arg in node.args:
            keyword = arg.keyword.value if arg.keyword is not None else None
            is_none = isinstance(arg.value, cst.Name) and arg.value.value == "None"
            if keyword == "compensate" and not is_none:
                self.info.uses_sagas = True
                return
        qname = self.info.resolve(node.func)
        if qname and qname.startswith("continuum.") and qname.split(".")[1] in SAGA_MARKERS:
            self.info.uses_sagas = True
