"""A parsed module: workflow/pure functions, positions, and name resolution.

Names are resolved through :mod:`continuum_lint.names` (imports and ``as`` aliases,
parameters and local assignments shadowing them, nested scopes, ``global``/``nonlocal``)
and then by following values: assignment aliases (``D = datetime.datetime``), values
built from tracked classes (``client = continuum.Client()``), parameters annotated with
them, ``getattr(x, "literal")`` and star imports.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from continuum_lint.denylist import FACTORY_TYPES, Denylist
from continuum_lint.names import Binding, BindingKind, NameTable, builtin_name
from continuum_lint.trust import (
    CLIENT_TYPES,
    DECORATORS,
    SAGA_MARKERS,
    WORKFLOW_API,
    normalize_continuum,
)
from continuum_lint.walk import call_args, is_string

Kind = Literal["workflow", "pure", "activity", "plain"]
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

TRACKED_TYPES: frozenset[str] = frozenset(
    {f"continuum.{name}" for name in CLIENT_TYPES}
    | {"pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath"}
    | set(FACTORY_TYPES.values())
)
"""Classes whose instances the resolver follows through variables (``c = Client()``)."""

_MAX_DEPTH = 8
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass(eq=False)
class FunctionInfo:
    """A function the scanner may check: top-level or a method of a top-level class."""

    name: str
    node: FunctionNode
    kind: Kind
    module: ModuleInfo

    @property
    def line(self) -> int:
        """The line of the ``def``."""
        return self.node.lineno


@dataclass(eq=False)
class ModuleInfo:
    """Everything the rules need to know about one parsed file."""

    path: str
    source: str
    tree: ast.Module
    denylist: Denylist
    names: NameTable
    functions: dict[str, FunctionInfo] = field(default_factory=dict)
    classes: dict[str, ast.ClassDef] = field(default_factory=dict)
    uses_sagas: bool = False
    _lines: list[str] | None = field(default=None, init=False, repr=False)

    @classmethod
    def parse(
        cls, source: str, path: str, denylist: Denylist, tree: ast.Module | None = None
    ) -> ModuleInfo:
        """Index ``source``, parsing it unless its ``tree`` is given.

        Raises ``SyntaxError`` (or ``ValueError``) when the source does not parse.
        """
        source = source.removeprefix("\ufeff")
        if tree is None:
            with warnings.catch_warnings():
                # Bad escapes warn while parsing (Deprecation-, from 3.12 SyntaxWarning):
                # the compiler's to report, and an error where warnings are errors.
                warnings.simplefilter("ignore")
                tree = ast.parse(source, filename=path)
        info = cls(path, source, tree, denylist, NameTable.build(tree))
        _index(info, tree.body, ())
        for function in info.functions.values():
            function.kind = info.decorator_kind(function.node)
        info.uses_sagas = "compensat" in source and _uses_sagas(info)
        return info

    @property
    def star_modules(self) -> list[str]:
        """Modules imported with ``from m import *``."""
        return self.names.star_modules

    # -- positions and source text ----------------------------------------------------

    @property
    def lines(self) -> list[str]:
        """The source lines, split the way the parser counts them."""
        if self._lines is None:
            self._lines = _LINE_BREAK.split(self.source)
        return self._lines

    def _column(self, line: int, offset: int) -> int:
        """A UTF-8 byte offset on ``line`` (as ``ast`` gives it) as a character column."""
        if self.source.isascii() or not 0 < line <= len(self.lines):
            return offset
        text = self.lines[line - 1]
        return len(text.encode("utf-8")[:offset].decode("utf-8", errors="replace"))

    def position(self, node: ast.AST) -> tuple[int, int]:
        """1-based line and 0-based (character) column of ``node``."""
        line = getattr(node, "lineno", None)
        if line is None:
            return (1, 0)
        return (line, self._column(line, node.col_offset))  # type: ignore[attr-defined]

    def decorator_position(self, expr: ast.expr) -> tuple[int, int]:
        """Where the ``@`` of the decorator ``expr`` is."""
        line, col = self.position(expr)
        if 0 < line <= len(self.lines):
            at = self.lines[line - 1].rfind("@", 0, col)
            if at >= 0:
                return (line, at)
        return (line, col)

    def segment(self, node: ast.AST, within: ast.AST | None = None) -> str:
        """The source text of ``node`` (empty if it has no position).

        ``within`` is an enclosing node that starts where ``node`` does up to opening
        parentheses (``(a * b)()`` for the callee ``a * b``): those are kept, balanced.
        """
        span = _span(node)
        if span is None:
            return ""
        text = self._text(*span)
        outer = None if within is None else _span(within)
        if outer is not None and outer[:2] < span[:2]:
            opened = self._text(*outer[:2], *span[:2]).count("(")
            text = "(" * opened + text + ")" * opened
        return text

    def _text(self, line: int, col: int, end_line: int, end_col: int) -> str:
        """The source between two (line, UTF-8 offset) positions."""
        if end_line > len(self.lines):
            return ""
        first = self.lines[line - 1].encode("utf-8")
        if line == end_line:
            return first[col:end_col].decode("utf-8", errors="replace")
        head = first[col:].decode("utf-8", errors="replace")
        tail = self.lines[end_line - 1].encode("utf-8")[:end_col].decode("utf-8", errors="replace")
        return "\n".join([head, *self.lines[line : end_line - 1], tail])

    def roots(self) -> list[FunctionInfo]:
        """Workflows and ``@pure`` helpers, in source order."""
        return [f for f in self.functions.values() if f.kind in ("workflow", "pure")]

    # -- resolution ---------------------------------------------------------------

    def resolve(self, node: ast.AST, depth: int = 0) -> str | None:
        """The fully qualified name ``node`` refers to, if it comes from an import/builtin.

        Names from continuum are normalized (``continuum.engine.api.execute`` →
        ``continuum.execute``). Returns ``None`` for local values and anything unknown.
        """
        if depth > _MAX_DEPTH:
            return None
        if isinstance(node, ast.Name):
            return self._resolve_name(node, depth)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value, depth + 1)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            return self._resolve_call_value(node, depth)
        if isinstance(node, ast.NamedExpr):
            return self.resolve(node.value, depth + 1)
        return None

    def _resolve_name(self, node: ast.Name, depth: int) -> str | None:
        found = self.names.lookup(node)
        if found is None:
            return None
        if not found:
            builtin = builtin_name(node.id)
            return builtin if builtin else self._resolve_star(node.id)
        imported = sorted(b.qname for b in found if b.kind is BindingKind.IMPORT)
        if imported:
            return normalize_continuum(imported[0])
        if len(found) != 1:
            return None
        (binding,) = found
        if binding.kind is BindingKind.PARAM:
            if binding.annotation is not None:
                typ = self.resolve(binding.annotation, depth + 1)
                if typ in TRACKED_TYPES:
                    return typ
            return None
        value = binding.value
        if isinstance(value, ast.Name | ast.Attribute):
            return self.resolve(value, depth + 1)
        if isinstance(value, ast.Call):
            return self._resolve_call_value(value, depth)
        return None

    def _resolve_call_value(self, call: ast.Call, depth: int) -> str | None:
        """``getattr(x, "name")`` → ``x.name``; ``TrackedClass(...)`` → the class."""
        func = self.resolve(call.func, depth + 1)
        if func == "builtins.getattr":
            args = call_args(call)
            if len(args) < 2:
                return None
            literal = args[1].value
            if is_string(literal) and isinstance(literal, ast.Constant):
                base = self.resolve(args[0].value, depth + 1)
                name = literal.value
                if base and isinstance(name, str):
                    return f"{base}.{name}"
            return None
        if func in TRACKED_TYPES:
            return func
        return FACTORY_TYPES.get(func) if func else None

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

    def reexport(self, name: str) -> str | None:
        """The qualified name a module-level ``name`` was imported as, if it was imported.

        For a module that only re-exports a helper (``from .impl import helper``).
        """
        others = [n for n in self.names.module_names_for(name) if n != name]
        return others[0] if others else None

    # -- questions rules ask --------------------------------------------------------

    def bindings(self, node: ast.Name) -> list[Binding]:
        """The non-builtin bindings ``node`` may refer to (empty when unknown/builtin)."""
        return self.names.lookup(node) or []

    def binding(self, node: ast.Name) -> str:
        """How ``node`` is bound where it is used.

        One of ``"param"``, ``"local"`` (a variable in a function), ``"closure"`` (a nested
        def or lambda), ``"module-function"``, ``"module-class"``, ``"module-value"``,
        ``"import"``, ``"builtin"``, or ``"unknown"``.
        """
        found = self.names.lookup(node)
        if found is None:
            return "unknown"
        if not found:
            return "builtin" if builtin_name(node.id) else "unknown"
        kinds = {_binding_kind(b) for b in found}
        return kinds.pop() if len(kinds) == 1 else "local"

    def decorator_kind(self, node: FunctionNode) -> Kind:
        """``workflow``, ``pure`` or ``activity`` when decorated so (however imported)."""
        for decorator in node.decorator_list:
            expr = decorator.func if isinstance(decorator, ast.Call) else decorator
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


def _span(node: ast.AST) -> tuple[int, int, int, int] | None:
    """(line, col, end line, end col) of ``node``, columns as UTF-8 offsets."""
    end_line: int | None = getattr(node, "end_lineno", None)
    if end_line is None:
        return None
    return (node.lineno, node.col_offset, end_line, node.end_col_offset)  # type: ignore[attr-defined]


def _binding_kind(binding: Binding) -> str:
    module_level = binding.scope.module_level
    kind = binding.kind
    if kind is BindingKind.IMPORT:
        return "import"
    if kind is BindingKind.PARAM:
        return "param"
    if kind is BindingKind.FUNCTION:
        return "module-function" if module_level else "closure"
    if kind is BindingKind.CLASS:
        return "module-class" if module_level else "closure"
    if isinstance(binding.value, ast.Lambda):
        return "closure"
    return "module-value" if module_level else "local"


def _blocks(statement: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists nested in a compound statement, in source order."""
    body = getattr(statement, "body", None)
    if isinstance(body, list):
        yield body
    for handler in getattr(statement, "handlers", ()):
        yield handler.body
    for case in getattr(statement, "cases", ()):
        yield case.body
    for name in ("orelse", "finalbody"):
        block = getattr(statement, name, None)
        if isinstance(block, list):
            yield block


def _index(info: ModuleInfo, statements: list[ast.stmt], classes: tuple[str, ...]) -> None:
    """Top-level functions and classes, and the methods of top-level classes."""
    for statement in statements:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef):
            name = ".".join([*classes, statement.name])
            info.functions[name] = FunctionInfo(name, statement, "plain", info)
        elif isinstance(statement, ast.ClassDef):
            if not classes:
                info.classes[statement.name] = statement
                _index(info, statement.body, (statement.name,))
        else:
            for block in _blocks(statement):
                _index(info, block, classes)


def _uses_sagas(info: ModuleInfo) -> bool:
    """Whether any call passes ``compensate=`` or calls a continuum saga function."""
    for node in info.names.calls:
        for keyword in node.keywords:
            is_none = isinstance(keyword.value, ast.Constant) and keyword.value.value is None
            if keyword.arg == "compensate" and not is_none:
                return True
        qname = info.resolve(node.func)
        if qname and qname.startswith("continuum.") and qname.split(".")[1] in SAGA_MARKERS:
            return True
    return False
