"""Scopes and bindings: which definition each name in a module refers to.

One walk over an ``ast`` module builds its scopes (module, class, function, lambda,
comprehension), records every binding of a name in the scope Python puts it in, and
remembers the scope each ``ast.Name`` is evaluated in. Python's rules are followed:

- ``import a.b`` binds ``a``; ``import a.b as c`` binds ``c`` to ``a.b``;
  ``from m import x as y`` binds ``y`` to ``m.x`` (``.m.x`` when relative); star
  imports bind nothing but are listed in :attr:`NameTable.star_modules`;
- parameters, assignments, ``for``/``with``/``except`` targets, walrus targets (in the
  enclosing function when written in a comprehension), ``def`` and ``class``;
- decorators, defaults, annotations and base classes are evaluated in the enclosing
  scope; the first iterable of a comprehension too, the rest in the comprehension;
- class bodies are invisible from the functions, lambdas and comprehensions nested in
  them; ``global`` and ``nonlocal`` send a function's bindings to the module or to the
  enclosing function.

Resolution is flow-insensitive, like Python's own scoping: a name assigned anywhere in
a function is local throughout it, and every binding in a scope is a candidate.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum

from continuum_lint.walk import code_fields


class BindingKind(Enum):
    """How a name was bound."""

    IMPORT = "import"
    PARAM = "param"
    FUNCTION = "function"
    CLASS = "class"
    ASSIGN = "assign"


class ScopeKind(Enum):
    """What opened a scope."""

    MODULE = "module"
    CLASS = "class"
    FUNCTION = "function"
    LAMBDA = "lambda"
    COMPREHENSION = "comprehension"


@dataclass(eq=False, slots=True)
class Binding:
    """One binding of a name."""

    kind: BindingKind
    scope: Scope
    node: ast.AST
    """The binding node: ``ast.Name``, ``ast.arg``, ``ast.alias``, a def, a class, ..."""
    qname: str = ""
    """For imports: the qualified name bound (``datetime.datetime``, ``.helpers.f``)."""
    value: ast.expr | None = None
    """For a plain-name assignment (``x = v``, ``with v as x``, ``x := v``): ``v``."""
    annotation: ast.expr | None = None
    """For parameters: the annotation, if any."""


@dataclass(eq=False, slots=True)
class Scope:
    """A module, class, function, lambda or comprehension scope."""

    kind: ScopeKind
    parent: Scope | None
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    declared: dict[str, str] = field(default_factory=dict)
    """Names declared ``global`` or ``nonlocal`` here."""

    @property
    def module_level(self) -> bool:
        """Whether this is the module scope."""
        return self.kind is ScopeKind.MODULE

    def root(self) -> Scope:
        """The module scope."""
        scope = self
        while scope.parent is not None:
            scope = scope.parent
        return scope

    def visible_parent(self) -> Scope | None:
        """The nearest enclosing scope whose names this one sees (class bodies are not)."""
        scope = self.parent
        while scope is not None and scope.kind is ScopeKind.CLASS:
            scope = scope.parent
        return scope

    def lookup(self, name: str) -> list[Binding]:
        """Every binding ``name`` may refer to when used in this scope (empty: builtin/unknown)."""
        scope: Scope | None = self
        while scope is not None:
            declared = scope.declared.get(name)
            if declared == "global":
                scope = scope.root()
                continue
            if declared is None:
                found = scope.bindings.get(name)
                if found:
                    return found
            scope = scope.visible_parent()
        return []


def builtin_name(name: str) -> str | None:
    """``builtins.<name>`` if ``name`` is a builtin, else ``None``."""
    return f"builtins.{name}" if hasattr(builtins, name) else None


@dataclass(eq=False)
class NameTable:
    """The scopes of one module and the scope of each of its ``ast.Name`` nodes."""

    module: Scope
    scope_of: dict[ast.Name, Scope]
    star_modules: list[str]
    calls: list[ast.Call]
    """Every call in the module, for module-wide questions (does it use sagas?)."""

    @classmethod
    def build(cls, tree: ast.Module) -> NameTable:
        """Walk ``tree`` once and return its table."""
        table = cls(Scope(ScopeKind.MODULE, None), {}, [], [])
        binder = _Binder(table)
        binder.visit_all(tree.body)
        binder.close(table.module)
        return table

    def lookup(self, node: ast.Name) -> list[Binding] | None:
        """The bindings ``node`` may refer to; ``None`` if ``node`` is not in this module."""
        scope = self.scope_of.get(node)
        return None if scope is None else scope.lookup(node.id)

    def module_names_for(self, name: str) -> list[str]:
        """Qualified names of a module-level ``name``: what an import of it would get."""
        found = self.module.lookup(name)
        if not found:
            builtin = builtin_name(name)
            return [builtin] if builtin else []
        return sorted({b.qname if b.kind is BindingKind.IMPORT else name for b in found})


def _arguments(args: ast.arguments) -> list[ast.arg]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg is not None:
        every.append(args.vararg)
    if args.kwarg is not None:
        every.append(args.kwarg)
    return every


_Handler = Callable[["_Binder", ast.AST], None]


class _Binder:
    """The single walk that fills a :class:`NameTable`."""

    def __init__(self, table: NameTable) -> None:
        self.table = table
        self.scope = table.module
        self.scope_of = table.scope_of

    # -- traversal ------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node)
            return
        for name in code_fields(type(node)):
            value = getattr(node, name, None)
            if isinstance(value, ast.AST):
                self.visit(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)

    def visit_all(self, nodes: Iterable[ast.AST | None]) -> None:
        for node in nodes:
            if node is not None:
                self.visit(node)

    # -- scopes and bindings ----------------------------------------------------------

    def bind(self, name: str, binding: Binding) -> None:
        self.scope.bindings.setdefault(name, []).append(binding)

    def open(self, kind: ScopeKind) -> Scope:
        self.scope = Scope(kind, self.scope)
        return self.scope

    def close(self, scope: Scope) -> None:
        """Leave ``scope``, moving ``global``/``nonlocal`` names' bindings where they belong."""
        for name, declared in scope.declared.items():
            moved = scope.bindings.pop(name, None)
            if not moved:
                continue
            target = scope.root() if declared == "global" else scope.visible_parent()
            target = target or scope.root()
            for binding in moved:
                binding.scope = target
            target.bindings.setdefault(name, []).extend(moved)
        if scope.parent is not None:
            self.scope = scope.parent

    def target(self, node: ast.expr, value: ast.expr | None) -> None:
        """An assignment target; a plain name remembers the value it was given."""
        if isinstance(node, ast.Name):
            self.scope_of[node] = self.scope
            self.bind(node.id, Binding(BindingKind.ASSIGN, self.scope, node, value=value))
        else:
            self.visit(node)

    # -- handlers -------------------------------------------------------------------------

    def name(self, node: ast.Name) -> None:
        self.scope_of[node] = self.scope
        if isinstance(node.ctx, ast.Store):
            self.bind(node.id, Binding(BindingKind.ASSIGN, self.scope, node))

    def call(self, node: ast.Call) -> None:
        self.table.calls.append(node)
        self.visit(node.func)
        self.visit_all(node.args)
        self.visit_all(node.keywords)

    def assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.target(target, node.value)

    def ann_assign(self, node: ast.AnnAssign) -> None:
        self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)
        self.target(node.target, node.value)

    def with_(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.target(item.optional_vars, item.context_expr)
        self.visit_all(node.body)

    def named_expr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        scope = self.scope
        while scope.kind is ScopeKind.COMPREHENSION and scope.parent is not None:
            scope = scope.parent  # PEP 572: the target belongs to the enclosing function
        self.scope_of[node.target] = self.scope
        binding = Binding(BindingKind.ASSIGN, scope, node.target, value=node.value)
        scope.bindings.setdefault(node.target.id, []).append(binding)

    def except_handler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bind(node.name, Binding(BindingKind.ASSIGN, self.scope, node))
        self.visit_all(node.body)

    def import_(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                qname, bound = alias.name, alias.asname
            else:
                qname = bound = alias.name.split(".", 1)[0]
            self.bind(bound, Binding(BindingKind.IMPORT, self.scope, alias, qname=qname))

    def import_from(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                if node.module is not None:
                    self.table.star_modules.append(module)
                continue
            qname = f"{module}{alias.name}" if module.endswith(".") else f"{module}.{alias.name}"
            binding = Binding(BindingKind.IMPORT, self.scope, alias, qname=qname)
            self.bind(alias.asname or alias.name, binding)

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.visit_all(node.decorator_list)
        self._signature(node.args)
        if node.returns is not None:
            self.visit(node.returns)
        self.bind(node.name, Binding(BindingKind.FUNCTION, self.scope, node))
        scope = self.open(ScopeKind.FUNCTION)
        self.visit_all(getattr(node, "type_params", ()))
        self._parameters(node.args)
        self.visit_all(node.body)
        self.close(scope)

    def lambda_(self, node: ast.Lambda) -> None:
        self._signature(node.args)
        scope = self.open(ScopeKind.LAMBDA)
        self._parameters(node.args)
        self.visit(node.body)
        self.close(scope)

    def _signature(self, args: ast.arguments) -> None:
        """Defaults and annotations: evaluated where the function is defined."""
        self.visit_all(args.defaults)
        self.visit_all(args.kw_defaults)
        self.visit_all(a.annotation for a in _arguments(args))

    def _parameters(self, args: ast.arguments) -> None:
        for arg in _arguments(args):
            self.bind(
                arg.arg, Binding(BindingKind.PARAM, self.scope, arg, annotation=arg.annotation)
            )

    def class_(self, node: ast.ClassDef) -> None:
        self.visit_all(node.decorator_list)
        self.visit_all(node.bases)
        self.visit_all(node.keywords)
        self.bind(node.name, Binding(BindingKind.CLASS, self.scope, node))
        scope = self.open(ScopeKind.CLASS)
        self.visit_all(getattr(node, "type_params", ()))
        self.visit_all(node.body)
        self.close(scope)

    def comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        generators = node.generators
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        scope = self.open(ScopeKind.COMPREHENSION)
        for i, generator in enumerate(generators):
            if i:
                self.visit(generator.iter)
            self.visit(generator.target)
            self.visit_all(generator.ifs)
        if isinstance(node, ast.DictComp):
            self.visit(node.key)
            self.visit(node.value)
        else:
            self.visit(node.elt)
        self.close(scope)

    def global_(self, node: ast.Global | ast.Nonlocal) -> None:
        if self.scope.module_level:
            return
        declared = "global" if isinstance(node, ast.Global) else "nonlocal"
        for name in node.names:
            self.scope.declared[name] = declared

    def capture(self, node: ast.MatchAs | ast.MatchStar | ast.MatchMapping) -> None:
        """``case Point(x=px)`` / ``case [*rest]`` / ``case {**rest}``: capture names."""
        name = node.rest if isinstance(node, ast.MatchMapping) else node.name
        if name:
            self.bind(name, Binding(BindingKind.ASSIGN, self.scope, node))
        for child_field in code_fields(type(node)):
            value = getattr(node, child_field, None)
            if isinstance(value, ast.AST):
                self.visit(value)
            elif isinstance(value, list):
                self.visit_all(v for v in value if isinstance(v, ast.AST))


def _handlers() -> dict[type[ast.AST], _Handler]:
    table: dict[type[ast.AST], object] = {
        ast.Name: _Binder.name,
        ast.Call: _Binder.call,
        ast.Assign: _Binder.assign,
        ast.AnnAssign: _Binder.ann_assign,
        ast.With: _Binder.with_,
        ast.AsyncWith: _Binder.with_,
        ast.NamedExpr: _Binder.named_expr,
        ast.ExceptHandler: _Binder.except_handler,
        ast.Import: _Binder.import_,
        ast.ImportFrom: _Binder.import_from,
        ast.FunctionDef: _Binder.function,
        ast.AsyncFunctionDef: _Binder.function,
        ast.Lambda: _Binder.lambda_,
        ast.ClassDef: _Binder.class_,
        ast.ListComp: _Binder.comprehension,
        ast.SetComp: _Binder.comprehension,
        ast.GeneratorExp: _Binder.comprehension,
        ast.DictComp: _Binder.comprehension,
        ast.Global: _Binder.global_,
        ast.Nonlocal: _Binder.global_,
        ast.MatchAs: _Binder.capture,
        ast.MatchStar: _Binder.capture,
        ast.MatchMapping: _Binder.capture,
    }
    return table  # type: ignore[return-value]


_HANDLERS: dict[type[ast.AST], _Handler] = _handlers()
