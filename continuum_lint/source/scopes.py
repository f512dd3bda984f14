"""Which names a piece of code reads from module scope, without libcst's scope metadata.

Python's scoping is not flow-sensitive: a name bound anywhere in a function (parameter,
assignment, loop or ``with`` target, import, nested ``def``/``class``, walrus) is local
to the whole function unless declared ``global``. So the reads of one function are
collected in a single pass with the scope chain they occur in, and resolved when the
pass ends: a read is *global* when no enclosing function, lambda or comprehension scope
binds its name (a class body's own bindings count only for reads directly in it) and
the module binds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst


@dataclass(eq=False)
class _Scope:
    kind: str  # "function", "class", "comprehension"
    parent: _Scope | None
    bound: set[str] = field(default_factory=set)
    declared_global: set[str] = field(default_factory=set)


def _target_names(node: cst.BaseExpression | cst.CSTNode) -> list[cst.Name]:
    """The plain names a binding target binds (``a``, ``a, (b, *c)``); not ``x.y``/``x[i]``."""
    if isinstance(node, cst.Name):
        return [node]
    if isinstance(node, cst.Tuple | cst.List):
        names: list[cst.Name] = []
        for element in node.elements:
            names.extend(_target_names(element.value))
        return names
    if isinstance(node, cst.StarredElement):
        return _target_names(node.value)
    return []


class _Collector(cst.CSTVisitor):
    """One pass: store targets per scope, and every read with the scope it happens in."""

    def __init__(self, scope: _Scope) -> None:
        super().__init__()
        self.scope = scope
        self.stores: set[int] = set()
        self.reads: list[tuple[cst.Name, _Scope, str | None, cst.Attribute | None]] = []

    # -- binding forms -------------------------------------------------------------

    def _bind(self, target: cst.CSTNode) -> None:
        for name in _target_names(target):  # type: ignore[arg-type]
            self.stores.add(id(name))
            self.scope.bound.add(name.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._bind(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        for name in _target_names(node.target):
            self.scope.bound.add(name.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._bind(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        scope = self.scope
        while scope.kind == "comprehension" and scope.parent is not None:
            scope = scope.parent
        for name in _target_names(node.target):
            self.stores.add(id(name))
            scope.bound.add(name.value)

    def visit_Global(self, node: cst.Global) -> bool:
        self.scope.declared_global.update(item.name.value for item in node.names)
        return False

    def visit_Nonlocal(self, node: cst.Nonlocal) -> bool:
        self.scope.bound.update(item.name.value for item in node.names)
        return False

    def visit_Import(self, node: cst.Import) -> bool:
        for alias in node.names:
            if alias.asname is not None:
                self._bind(alias.asname.name)
            else:
                head = alias.name
                while isinstance(head, cst.Attribute):
                    head = head.value  # type: ignore[assignment]
                if isinstance(head, cst.Name):
                    self.scope.bound.add(head.value)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        if not isinstance(node.names, cst.ImportStar):
            for alias in node.names:
                if alias.asname is not None:
                    self._bind(alias.asname.name)
                elif isinstance(alias.name, cst.Name):
                    self.scope.bound.add(alias.name.value)
        return False

    # -- scopes ----------------------------------------------------------------------

    def _visit_in(self, scope: _Scope, nodes: list[cst.CSTNode]) -> None:
        outer = self.scope
        self.scope = scope
        for node in nodes:
            node.visit(self)
        self.scope = outer

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.scope.bound.add(node.name.value)
        self.stores.add(id(node.name))
        # Decorators, defaults and annotations are evaluated where the def is.
        for decorator in node.decorators:
            decorator.visit(self)
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                every.append(star)
        for param in every:
            if param.default is not None:
                param.default.visit(self)
            if param.annotation is not None:
                param.annotation.visit(self)
        if node.returns is not None:
            node.returns.visit(self)
        inner = _Scope("function", self.scope, {p.name.value for p in every})
        self._visit_in(inner, [node.body])
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                every.append(star)
        for param in every:
            if param.default is not None:
                param.default.visit(self)
        inner = _Scope("function", self.scope, {p.name.value for p in every})
        self._visit_in(inner, [node.body])
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.scope.bound.add(node.name.value)
        self.stores.add(id(node.name))
        for item in [*node.decorators, *node.bases, *node.keywords]:
            item.visit(self)
        self._visit_in(_Scope("class", self.scope), [node.body])
        return False

    def _comprehension(self, node: cst.CSTNode, parts: list[cst.CSTNode], comp: cst.CompFor) -> bool:
        # The first iterable is evaluated in the enclosing scope.
        comp.iter.visit(self)
        inner = _Scope("comprehension", self.scope)
        outer = self.scope
        self.scope = inner
        self._bind(comp.target)
        for condition in comp.ifs:
            condition.visit(self)
        if comp.inner_for_in is not None:
            self._comp_for(comp.inner_for_in)
        for part in parts:
            part.visit(self)
        self.scope = outer
        return False

    def _comp_for(self, comp: cst.CompFor) -> None:
        comp.iter.visit(self)
        self._bind(comp.target)
        for condition in comp.ifs:
            condition.visit(self)
        if comp.inner_for_in is not None:
            self._comp_for(comp.inner_for_in)

    def visit_ListComp(self, node: cst.ListComp) -> bool:
        return self._comprehension(node, [node.elt], node.for_in)

    def visit_SetComp(self, node: cst.SetComp) -> bool:
        return self._comprehension(node, [node.elt], node.for_in)

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> bool:
        return self._comprehension(node, [node.elt], node.for_in)

    def visit_DictComp(self, node: cst.DictComp) -> bool:
        return self._comprehension(node, [node.key, node.value], node.for_in)

    # -- reads -------------------------------------------------------------------------

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name):
            self.reads.append((node.value, self.scope, node.attr.value, node))
            return False
        node.value.visit(self)
        return False

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.stores:
            self.reads.append((node, self.scope, None, None))

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_Param(self, node: cst.Param) -> bool:
        return False


def _is_global(name: str, scope: _Scope, global_names: set[str] | None) -> bool:
    current: _Scope | None = scope
    first = True
    while current is not None:
        if name in current.declared_global:
            break
        if name in current.bound and (current.kind != "class" or first):
            return False
        first = False
        current = current.parent
    return global_names is None or name in global_names


@dataclass(frozen=True)
class Read:
    """A read of a module-level ``name`` (``name.attr`` when ``attr`` is set)."""

    name: str
    attr: str | None
    node: cst.Name
    scope_params: frozenset[str] = frozenset()


def global_reads(node: cst.CSTNode, global_names: set[str] | None) -> list[Read]:
    """Module-level names read in ``node``, in source order, with ``attr`` for ``Name.attr``.

    ``node`` is a module-level statement (a ``def``, ``class`` or assignment), so its own
    scope is the module's. With ``global_names`` given, only names the module binds count.
    """
    collector = _Collector(_Scope("module", None))
    node.visit(collector)
    found: list[Read] = []
    for name, scope, attr, _ in collector.reads:
        if _is_global(name.value, scope, global_names):
            found.append(Read(name.value, attr, name))
    return found


@dataclass(frozen=True)
class LocalRead:
    """A read of a function's own parameter ``name`` as ``name.attr``."""

    name: str
    attr: str


def param_attribute_reads(function: cst.FunctionDef) -> list[LocalRead]:
    """``p.attr`` reads in ``function`` (nested scopes included) where ``p`` is one of its
    own parameters not rebound in its body."""
    collector = _Collector(_Scope("module", None))
    function.visit(collector)
    found: list[LocalRead] = []
    params = {p.name.value for p in _all_params(function.params)}
    for name, scope, attr, _ in collector.reads:
        if attr is None or name.value not in params:
            continue
        owner = _owner(name.value, scope)
        if owner is not None and owner.kind == "function" and owner.parent is not None and (
            owner.parent.kind == "module"
        ):
            found.append(LocalRead(name.value, attr))
    return found


def _owner(name: str, scope: _Scope) -> _Scope | None:
    current: _Scope | None = scope
    first = True
    while current is not None:
        if name in current.bound and (current.kind != "class" or first):
            return current
        first = False
        current = current.parent
    return None


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            every.append(star)
    return every


def module_bindings(module: cst.Module) -> dict[str, int]:
    """How many times each name is bound at module level (in any module-level block,
    and through ``global`` declarations in functions)."""
    counts: dict[str, int] = {}

    def add(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    def statements(body: object) -> list[cst.CSTNode]:
        if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
            return list(body.body)  # type: ignore[arg-type]
        return []

    def walk(stmts: list[cst.CSTNode]) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
                add(stmt.name.value)
            elif isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    _small_bindings(small, add)
            else:
                if isinstance(stmt, cst.For):
                    for name in _target_names(stmt.target):
                        add(name.value)
                if isinstance(stmt, cst.With):
                    for item in stmt.items:
                        if item.asname is not None:
                            for name in _target_names(item.asname.name):
                                add(name.value)
                for attr in ("body", "orelse", "finalbody"):
                    block = getattr(stmt, attr, None)
                    if isinstance(block, cst.Else | cst.Finally):
                        block = block.body
                    if isinstance(block, cst.If):
                        walk([block])
                    else:
                        walk(statements(block))
                for handler in getattr(stmt, "handlers", ()):
                    if handler.name is not None:
                        for name in _target_names(handler.name.name):
                            add(name.value)
                    walk(statements(handler.body))

    walk(list(module.body))
    return counts


def _small_bindings(small: cst.BaseSmallStatement, add: object) -> None:
    record = add  # a callable taking a name
    if isinstance(small, cst.Assign):
        for target in small.targets:
            for name in _target_names(target.target):
                record(name.value)  # type: ignore[operator]
    elif isinstance(small, cst.AnnAssign | cst.AugAssign):
        for name in _target_names(small.target):
            record(name.value)  # type: ignore[operator]
    elif isinstance(small, cst.Import):
        for alias in small.names:
            if alias.asname is not None:
                for name in _target_names(alias.asname.name):
                    record(name.value)  # type: ignore[operator]
            else:
                head: cst.BaseExpression = alias.name
                while isinstance(head, cst.Attribute):
                    head = head.value
                if isinstance(head, cst.Name):
                    record(head.value)  # type: ignore[operator]
    elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
        for alias in small.names:
            if alias.asname is not None:
                for name in _target_names(alias.asname.name):
                    record(name.value)  # type: ignore[operator]
            elif isinstance(alias.name, cst.Name):
                record(alias.name.value)  # type: ignore[operator]
