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
    params: frozenset[str] = frozenset()
    rebound: set[str] = field(default_factory=set)


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


_SKIPPED_FIELDS = frozenset(
    {
        "lpar",
        "rpar",
        "comma",
        "semicolon",
        "leading_lines",
        "lines_after_decorators",
        "header",
        "footer",
        "newline",
        "indent",
        "equal",
        "colon",
        "operator",
        "dot",
        "lbracket",
        "rbracket",
        "lbrace",
        "rbrace",
        "trailing_whitespace",
        "asynchronous",
    }
)
"""Fields that only hold layout tokens (whitespace, punctuation, operators)."""

_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}


def _fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(
            name
            for name in kind.__dataclass_fields__
            if name not in _SKIPPED_FIELDS and not name.startswith("whitespace")
        )
    return names


_SPECIAL: frozenset[type] = frozenset(
    {
        cst.Name,
        cst.Attribute,
        cst.Arg,
        cst.FunctionDef,
        cst.Lambda,
        cst.ClassDef,
        cst.ListComp,
        cst.SetComp,
        cst.GeneratorExp,
        cst.DictComp,
        cst.AssignTarget,
        cst.AnnAssign,
        cst.For,
        cst.AugAssign,
        cst.AsName,
        cst.NamedExpr,
        cst.Global,
        cst.Nonlocal,
        cst.Import,
        cst.ImportFrom,
        cst.Param,
    }
)
"""Node types :meth:`_Collector.walk` handles itself (the rest: their children)."""

_NODE_TYPES: dict[type, bool] = {}


def _is_node(kind: type) -> bool:
    """``issubclass(kind, CSTNode)``, cached (CSTNode is an ABC: isinstance is slow)."""
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = issubclass(kind, cst.CSTNode)
    return known


def _params(params: cst.Parameters) -> list[cst.Param]:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            every.append(star)
    return every


class _Collector:
    """One pass: store targets per scope, and every read with the scope it happens in.

    A hand-written walk over the nodes' dataclass fields: libcst's visitor protocol
    rebuilds every node it passes, which costs more than the parse.
    """

    def __init__(self, scope: _Scope) -> None:
        self.scope = scope
        self.stores: set[int] = set()
        self.reads: list[tuple[cst.Name, _Scope, str | None]] = []
        self.first_function: _Scope | None = None
        self.scopes: list[_Scope] = []

    def _bind(self, target: cst.CSTNode) -> None:
        for name in _target_names(target):
            self.stores.add(id(name))
            self.scope.bound.add(name.value)
            if name.value in self.scope.params:
                self.scope.rebound.add(name.value)

    def _in(self, scope: _Scope, nodes: list[cst.CSTNode]) -> None:
        self.scopes.append(scope)
        outer = self.scope
        self.scope = scope
        for node in nodes:
            self.walk(node)
        self.scope = outer

    def children(self, node: cst.CSTNode) -> None:
        for name in _fields(type(node)):
            value = getattr(node, name)
            kind = type(value)
            if kind is list or kind is tuple:
                for item in value:
                    if _is_node(type(item)):
                        self.walk(item)
            elif _is_node(kind):
                self.walk(value)

    def walk(self, node: cst.CSTNode) -> None:
        if type(node) not in _SPECIAL:  # most nodes: just their children (no ABC checks)
            self.children(node)
        elif isinstance(node, cst.Name):
            if id(node) not in self.stores:
                self.reads.append((node, self.scope, None))
        elif isinstance(node, cst.Attribute):
            if isinstance(node.value, cst.Name):
                if id(node.value) not in self.stores:
                    self.reads.append((node.value, self.scope, node.attr.value))
            else:
                self.walk(node.value)
        elif isinstance(node, cst.Arg):
            self.walk(node.value)
        elif isinstance(node, cst.FunctionDef):
            self._function(node)
        elif isinstance(node, cst.Lambda):
            every = _params(node.params)
            for param in every:
                if param.default is not None:
                    self.walk(param.default)
            self._in(_Scope("function", self.scope, {p.name.value for p in every}), [node.body])
        elif isinstance(node, cst.ClassDef):
            self.scope.bound.add(node.name.value)
            for item in [*node.decorators, *node.bases, *node.keywords]:
                self.walk(item)
            self._in(_Scope("class", self.scope), [node.body])
        elif isinstance(node, cst.ListComp | cst.SetComp | cst.GeneratorExp):
            self._comprehension([node.elt], node.for_in)
        elif isinstance(node, cst.DictComp):
            self._comprehension([node.key, node.value], node.for_in)
        elif isinstance(node, cst.AssignTarget | cst.AnnAssign | cst.For):
            self._bind(node.target)
            self.children(node)
        elif isinstance(node, cst.AugAssign):
            for name in _target_names(node.target):
                self.scope.bound.add(name.value)
                if name.value in self.scope.params:
                    self.scope.rebound.add(name.value)
            self.children(node)
        elif isinstance(node, cst.AsName):
            self._bind(node.name)
        elif isinstance(node, cst.NamedExpr):
            scope = self.scope
            while scope.kind == "comprehension" and scope.parent is not None:
                scope = scope.parent
            for name in _target_names(node.target):
                self.stores.add(id(name))
                scope.bound.add(name.value)
            self.walk(node.value)
        elif isinstance(node, cst.Global):
            self.scope.declared_global.update(item.name.value for item in node.names)
        elif isinstance(node, cst.Nonlocal):
            self.scope.bound.update(item.name.value for item in node.names)
        elif isinstance(node, cst.Import | cst.ImportFrom):
            self._import(node)
        elif not isinstance(node, cst.Param):
            self.children(node)

    def _import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if alias.asname is not None:
                self._bind(alias.asname.name)
                continue
            head: cst.BaseExpression = alias.name
            if isinstance(node, cst.Import):
                while isinstance(head, cst.Attribute):
                    head = head.value
            if isinstance(head, cst.Name):
                self.scope.bound.add(head.value)

    def _function(self, node: cst.FunctionDef) -> None:
        self.scope.bound.add(node.name.value)
        # Decorators, defaults and annotations are evaluated where the def is.
        for decorator in node.decorators:
            self.walk(decorator)
        every = _params(node.params)
        for param in every:
            if param.default is not None:
                self.walk(param.default)
            if param.annotation is not None:
                self.walk(param.annotation)
        if node.returns is not None:
            self.walk(node.returns)
        names = {p.name.value for p in every}
        inner = _Scope("function", self.scope, set(names), params=frozenset(names))
        if self.first_function is None:
            self.first_function = inner
        self._in(inner, [node.body])

    def _comprehension(self, parts: list[cst.BaseExpression], comp: cst.CompFor) -> None:
        # The first iterable is evaluated in the enclosing scope.
        self.walk(comp.iter)
        outer = self.scope
        self.scope = _Scope("comprehension", outer)
        self._bind(comp.target)
        for condition in comp.ifs:
            self.walk(condition)
        if comp.inner_for_in is not None:
            self._comp_for(comp.inner_for_in)
        for part in parts:
            self.walk(part)
        self.scope = outer

    def _comp_for(self, comp: cst.CompFor) -> None:
        self.walk(comp.iter)
        self._bind(comp.target)
        for condition in comp.ifs:
            self.walk(condition)
        if comp.inner_for_in is not None:
            self._comp_for(comp.inner_for_in)


def _is_global(name: str, scope: _Scope, global_names: set[str] | None) -> bool:
    current: _Scope | None = scope
    first = True
    while current is not None:
        if name in current.declared_global or current.kind == "module":
            # The statement's own module-level bindings (a def's name, read by a
            # recursive call) are module-level names like any other.
            break
        if current.kind == "module":
            break  # bound at module level (the statement's own def, say): a global
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


@dataclass(frozen=True)
class LocalRead:
    """A read of a function's own parameter ``name`` as ``name.attr``."""

    name: str
    attr: str


@dataclass
class Reads:
    """What one module-level statement reads: module names, and its own parameters'
    attributes (for a ``def``)."""

    globals: list[Read] = field(default_factory=list)
    param_attributes: list[LocalRead] = field(default_factory=list)


def reads_of(node: cst.CSTNode, global_names: set[str] | None) -> Reads:
    """The reads of a module-level statement (a ``def``, ``class`` or assignment), in
    source order: module-level names (only those in ``global_names`` when given), with
    ``attr`` for ``Name.attr``; and ``p.attr`` reads of a ``def``'s own parameters ``p``
    (nested scopes included) that its body does not rebind."""
    collector = _Collector(_Scope("module", None))
    collector.walk(node)
    found = Reads()
    own = collector.first_function
    for name, scope, attr in collector.reads:
        if _is_global(name.value, scope, global_names):
            found.globals.append(Read(name.value, attr, name))
        elif (
            attr is not None
            and own is not None
            and name.value in own.params
            and name.value not in own.rebound
            and _owner(name.value, scope) is own
        ):
            found.param_attributes.append(LocalRead(name.value, attr))
    return found


def global_reads(node: cst.CSTNode, global_names: set[str] | None) -> list[Read]:
    """Module-level names read in ``node`` (see :func:`reads_of`)."""
    return reads_of(node, global_names).globals


def _owner(name: str, scope: _Scope) -> _Scope | None:
    current: _Scope | None = scope
    first = True
    while current is not None:
        if name in current.bound and (current.kind != "class" or first):
            return current
        first = False
        current = current.parent
    return None


def module_bindings(module: cst.Module, declares_globals: bool = True) -> dict[str, int]:
    """How many times each name is bound at module level (in any module-level block,
    and through ``global`` declarations in functions: ``global n; n += 1`` binds ``n``
    again). ``declares_globals=False`` (no ``global`` in the text) skips that search."""
    counts: dict[str, int] = {}
    definitions: list[cst.CSTNode] = []

    def add(name: str) -> None:
        counts[name] = counts.get(name, 0) + 1

    def statements(body: object) -> list[cst.CSTNode]:
        if isinstance(body, cst.IndentedBlock | cst.SimpleStatementSuite):
            return list(body.body)
        return []

    def walk(stmts: list[cst.CSTNode]) -> None:
        for stmt in stmts:
            if isinstance(stmt, cst.FunctionDef | cst.ClassDef):
                add(stmt.name.value)
                definitions.append(stmt)
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
    if declares_globals:
        for definition in definitions:
            collector = _Collector(_Scope("module", None))
            collector.walk(definition)
            for scope in collector.scopes:
                for name in sorted(scope.declared_global & scope.bound):
                    add(name)
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
