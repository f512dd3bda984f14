"""A root's call closure: the code that runs as part of a workflow or ``@pure`` helper.

Starting from the root, every module-level name its code reads is resolved:

* a same-module function (called or passed by name), except activities and workflows,
  which are effects rather than workflow code;
* a method of a same-module class read as ``Cls.m``;
* a method called on one of the function's own parameters annotated with a same-module
  pydantic model or dataclass (``sub.next_cycle()`` with ``sub: Subscription``);
* a module-level constant (``NAME = <expr>``, bound once), and what its value reads;
* a ``@continuum.pure`` function in another module (``from myapp.helpers import f`` or
  ``helpers.f``, following re-exports), resolved to its source without importing it.

The scanner checks exactly these functions and codegen hashes exactly these members
(``tests/lint/test_closure_equality.py`` holds the two to that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from continuum_lint.source.discover import has_decorator, kind_of, resolve
from continuum_lint.source.modules import ModuleCache, ModuleSource
from continuum_lint.source.scopes import LocalRead, reads_of

MemberKind = Literal["workflow", "function", "constant", "method", "pure"]
KIND_ORDER: dict[str, int] = {"workflow": 0, "function": 1, "constant": 2, "method": 3, "pure": 4}
_REEXPORT_HOPS = 5
_MODEL_BASES = ("pydantic.", "dataclasses.")


@dataclass(frozen=True, eq=False)
class Member:
    """One piece of code in a root's closure."""

    kind: MemberKind
    source: ModuleSource
    qualname: str
    node: cst.CSTNode

    @property
    def key(self) -> str:
        """``module:qualname`` — unique within one closure."""
        return f"{self.source.name}:{self.qualname}"

    @property
    def copied(self) -> bool:
        """Whether a frozen module carries a copy of this member (functions, constants)."""
        return self.kind in {"workflow", "function", "constant"}

    @property
    def is_code(self) -> bool:
        """A function or method (what the scanner walks), not a constant."""
        return self.kind != "constant"


@dataclass(frozen=True)
class Edge:
    """``caller`` reads ``name`` (``name.attr``) and so reaches ``callee``."""

    caller: str
    callee: Member
    name: str
    attr: str | None
    via_param: bool = False


@dataclass
class Closure:
    """The members reached from one root, and the edges that reached them."""

    root: Member
    members: dict[str, Member] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)

    def sorted_members(self) -> list[Member]:
        """Root first, then by kind, module and name (the order hashes use)."""
        return sorted(
            self.members.values(), key=lambda m: (KIND_ORDER[m.kind], m.source.name, m.qualname)
        )

    def code_keys(self) -> set[str]:
        """Keys of the functions and methods (constants left out)."""
        return {key for key, member in self.members.items() if member.is_code}


def method_of(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    """The ``def name`` directly in ``cls``'s body."""
    if not isinstance(cls.body, cst.IndentedBlock):
        return None
    for stmt in cls.body.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
            return stmt
    return None


def is_model_class(src: ModuleSource, cls: cst.ClassDef) -> bool:
    """A dataclass or a pydantic model (by decorator or base, however imported)."""
    for decorator in cls.decorators:
        expr = decorator.decorator
        target = resolve(src, expr.func if isinstance(expr, cst.Call) else expr)
        if target is not None and target.startswith(_MODEL_BASES):
            return True
    for base in cls.bases:
        target = resolve(src, base.value)
        if target is not None and target.startswith(_MODEL_BASES):
            return True
    return False


def annotated_class(src: ModuleSource, annotation: cst.Annotation | None) -> str | None:
    """The same-module model class a parameter is annotated with (``X``, ``"X"``)."""
    if annotation is None:
        return None
    expr = annotation.annotation
    name: str | None = None
    if isinstance(expr, cst.Name):
        name = expr.value
    elif isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        name = value if isinstance(value, str) and value.isidentifier() else None
    if name is None:
        return None
    cls = src.classes.get(name)
    return name if cls is not None and is_model_class(src, cls) else None


def pure_target(
    cache: ModuleCache, module: str, name: str, hops: int = _REEXPORT_HOPS
) -> tuple[ModuleSource, cst.FunctionDef] | None:
    """Find ``module.name`` as a ``@pure`` function, following re-exports a few hops."""
    if hops <= 0:
        return None
    other = cache.find(module)
    if other is None:
        return None
    func = other.functions.get(name)
    if func is not None:
        return (other, func) if has_decorator(other, func, "pure") else None
    binding = other.imports.get(name)
    if binding is not None and binding.attr is not None:
        return pure_target(cache, binding.module, binding.attr, hops - 1)
    return None


def reached(cache: ModuleCache, src: ModuleSource, name: str, attr: str | None) -> Member | None:
    """The member a module-level read of ``name`` (or ``name.attr``) in ``src`` reaches."""
    func = src.functions.get(name)
    if func is not None:
        if kind_of(src, func) in ("activity", "workflow"):
            return None
        return Member("function", src, name, func)
    cls = src.classes.get(name)
    if cls is not None:
        method = method_of(cls, attr) if attr is not None else None
        return Member("method", src, f"{name}.{attr}", method) if method is not None else None
    const = src.constants.get(name)
    if const is not None:
        return Member("constant", src, name, const)
    binding = src.imports.get(name)
    if binding is None:
        return None
    candidates: list[tuple[str, str]] = []
    if binding.attr is not None:
        candidates.append((binding.module, binding.attr))
        if attr is not None:
            candidates.append((binding.qualified, attr))
    elif attr is not None:
        candidates.append((binding.module, attr))
    for module, target in candidates:
        found = pure_target(cache, module, target)
        if found is not None:
            other, pure = found
            return Member("pure", other, pure.name.value, pure)
    return None


def _param_methods(member: Member, reads: list[LocalRead]) -> list[tuple[str, str, Member]]:
    """Methods called on a parameter annotated with a same-module model class."""
    node = member.node
    if not reads or not isinstance(node, cst.FunctionDef):
        return []
    src = member.source
    annotated: dict[str, str] = {}
    params = node.params
    for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
        cls = annotated_class(src, param.annotation)
        if cls is not None:
            annotated[param.name.value] = cls
    found: list[tuple[str, str, Member]] = []
    for read in reads:
        cls_name = annotated.get(read.name)
        if cls_name is None:
            continue
        method = method_of(src.classes[cls_name], read.attr)
        if method is not None:
            qualname = f"{cls_name}.{read.attr}"
            found.append((read.name, read.attr, Member("method", src, qualname, method)))
    return found


def edges_of(member: Member, cache: ModuleCache) -> list[Edge]:
    """What ``member``'s own code reads that is part of a closure, in source order."""
    src = member.source
    found: list[Edge] = []
    seen: set[tuple[str, str, str | None]] = set()
    reads = reads_of(member.node, set(src.bindings))
    for read in reads.globals:
        target = reached(cache, src, read.name, read.attr)
        if target is not None and (target.key, read.name, read.attr) not in seen:
            seen.add((target.key, read.name, read.attr))
            found.append(Edge(member.key, target, read.name, read.attr))
    for name, attr, target in _param_methods(member, reads.param_attributes):
        if (target.key, name, attr) not in seen:
            seen.add((target.key, name, attr))
            found.append(Edge(member.key, target, name, attr, via_param=True))
    return found


def closure(root: Member, cache: ModuleCache) -> Closure:
    """Everything ``root`` reaches (see the module docstring)."""
    result = Closure(root, {root.key: root})
    queue = [root]
    while queue:
        member = queue.pop(0)
        for edge in edges_of(member, cache):
            result.edges.append(edge)
            target = edge.callee
            if target.key not in result.members:
                result.members[target.key] = target
                queue.append(target)
    return result


def root_member(src: ModuleSource, node: cst.FunctionDef, kind: str) -> Member:
    """The closure root for a workflow (``kind="workflow"``) or a ``@pure`` helper."""
    return Member("workflow" if kind == "workflow" else "pure", src, node.name.value, node)
