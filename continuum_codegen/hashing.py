"""Content hashes of workflows.

A workflow's hash covers, in canonical form (:mod:`continuum_codegen.canonical`):

* the workflow function, decorators included;
* the same-module functions it reaches transitively (by name, called or passed), except
  activities and workflows, which are effects rather than workflow code;
* methods of same-module classes it reaches as ``Cls.m``;
* module-level constants (``NAME = <expr>``, bound once) it reads, and what their values read;
* ``@continuum.pure`` functions it reaches in other modules (``from myapp.helpers import f``
  or ``helpers.f``), resolved to their source file without importing anything.

The digest is ``sha256("continuum-hash-v1\\n" + members)`` and the public hash is its
first 16 hex characters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

import libcst as cst

from continuum.definitions.manifest import SCHEME as SCHEME  # the scheme this module implements
from continuum_codegen.canonical import canonical
from continuum_codegen.discover import WorkflowDef, has_decorator, is_continuum_api
from continuum_codegen.errors import SourceError
from continuum_codegen.modules import ModuleCache, ModuleSource

HASH_LENGTH = 16
_REEXPORT_HOPS = 5

MemberKind = Literal["workflow", "function", "constant", "method", "pure"]
_KIND_ORDER: dict[str, int] = {"workflow": 0, "function": 1, "constant": 2, "method": 3, "pure": 4}


@dataclass(frozen=True)
class Member:
    """One piece of code that a workflow's hash covers."""

    kind: MemberKind
    source: ModuleSource
    qualname: str
    node: cst.CSTNode

    @property
    def key(self) -> str:
        """``module:qualname`` — unique within one workflow's closure."""
        return f"{self.source.name}:{self.qualname}"

    @property
    def copied(self) -> bool:
        """Whether the frozen module carries a copy of this member (functions, constants)."""
        return self.kind in {"workflow", "function", "constant"}


@dataclass(frozen=True)
class PatchSite:
    """A ``continuum.patched("id")`` call in hashed code."""

    id: str
    line: int
    function: str


@dataclass
class WorkflowHash:
    """The hash of one workflow and the closure it was computed over."""

    workflow: WorkflowDef
    hash: str
    digest: str
    members: list[Member] = field(default_factory=list)
    patched: list[PatchSite] = field(default_factory=list)


class GlobalReferences(cst.CSTVisitor):
    """Collects module-level names read in a node, with ``attr`` for ``Name.attr`` reads."""

    def __init__(self, src: ModuleSource) -> None:
        self.src = src
        self.found: list[tuple[str, str | None]] = []

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name) and self.src.is_global_access(node.value):
            self.found.append((node.value.value, node.attr.value))
            return False
        return True

    def visit_Name(self, node: cst.Name) -> None:
        if self.src.is_global_access(node):
            self.found.append((node.value, None))


def _method(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    if not isinstance(cls.body, cst.IndentedBlock):
        return None
    for stmt in cls.body.body:
        if isinstance(stmt, cst.FunctionDef) and stmt.name.value == name:
            return stmt
    return None


def _pure_target(
    cache: ModuleCache, module: str, name: str, hops: int = _REEXPORT_HOPS
) -> tuple[ModuleSource, cst.FunctionDef] | None:
    """Find ``module.name`` as a ``@pure`` function, following re-exports a few hops."""
    if module == "continuum" or module.startswith("continuum.") or hops <= 0:
        return None
    other = cache.find(module)
    if other is None:
        return None
    func = other.functions.get(name)
    if func is not None:
        return (other, func) if has_decorator(other, func, "pure") else None
    binding = other.imports.get(name)
    if binding is not None and binding.attr is not None:
        return _pure_target(cache, binding.module, binding.attr, hops - 1)
    return None


def _resolve(
    cache: ModuleCache, src: ModuleSource, name: str, attr: str | None
) -> Iterator[Member]:
    """Members that a read of ``name`` (or ``name.attr``) in ``src`` reaches."""
    func = src.functions.get(name)
    if func is not None:
        if has_decorator(src, func, "activity") or has_decorator(src, func, "workflow"):
            return
        yield Member("function", src, name, func)
        return
    cls = src.classes.get(name)
    if cls is not None:
        method = _method(cls, attr) if attr is not None else None
        if method is not None:
            yield Member("method", src, f"{name}.{attr}", method)
        return
    const = src.constants.get(name)
    if const is not None:
        yield Member("constant", src, name, const)
        return
    binding = src.imports.get(name)
    if binding is None:
        return
    candidates: list[tuple[str, str]] = []
    if binding.attr is not None:
        candidates.append((binding.module, binding.attr))
        if attr is not None:
            candidates.append((binding.qualified, attr))
    elif attr is not None:
        candidates.append((binding.module, attr))
    for module, target in candidates:
        found = _pure_target(cache, module, target)
        if found is not None:
            other, pure = found
            yield Member("pure", other, pure.name.value, pure)
            return


def closure(workflow: WorkflowDef, cache: ModuleCache) -> list[Member]:
    """The workflow and everything it reaches, sorted workflow-first then by kind and name."""
    root = Member("workflow", workflow.source, workflow.qualname, workflow.node)
    members: dict[str, Member] = {root.key: root}
    queue = [root]
    while queue:
        member = queue.pop()
        visitor = GlobalReferences(member.source)
        member.node.visit(visitor)
        for name, attr in visitor.found:
            for reached in _resolve(cache, member.source, name, attr):
                if reached.key not in members:
                    members[reached.key] = reached
                    queue.append(reached)
    return sorted(members.values(), key=lambda m: (_KIND_ORDER[m.kind], m.source.name, m.qualname))


class _PatchCalls(cst.CSTVisitor):
    def __init__(self, member: Member) -> None:
        self.member = member
        self.sites: list[PatchSite] = []

    def visit_Call(self, node: cst.Call) -> None:
        src = self.member.source
        if not is_continuum_api(src.qualified_name(node.func), "patched"):
            return
        line = src.line_of(node)
        arg = node.args[0].value if node.args else None
        patch_id = arg.evaluated_value if isinstance(arg, cst.SimpleString) else None
        if not isinstance(patch_id, str):
            raise SourceError(
                f"{src.path}:{line}: continuum.patched() needs a string literal id "
                "so builds and audits can track it"
            )
        self.sites.append(PatchSite(patch_id, line, self.member.key))


def patch_sites(members: list[Member]) -> list[PatchSite]:
    """``continuum.patched("id")`` call sites in the hashed code, in a stable order."""
    sites: list[PatchSite] = []
    for member in members:
        if member.kind == "constant":
            continue
        visitor = _PatchCalls(member)
        member.node.visit(visitor)
        sites.extend(visitor.sites)
    return sorted(set(sites), key=lambda s: (s.function, s.line, s.id))


def hash_input(workflow: WorkflowDef, members: list[Member]) -> str:
    """The exact text that is hashed (exposed for debugging hash changes)."""
    parts = [SCHEME, f"workflow {workflow.module}:{workflow.qualname}"]
    for member in members:
        parts.append(f"{member.kind} {member.key}")
        parts.append(canonical(member.node))
    return "\n".join(parts) + "\n"


def hash_workflow(workflow: WorkflowDef, cache: ModuleCache) -> WorkflowHash:
    """Compute the content hash of ``workflow``."""
    members = closure(workflow, cache)
    digest = hashlib.sha256(hash_input(workflow, members).encode("utf-8")).hexdigest()
    return WorkflowHash(
        workflow=workflow,
        hash=digest[:HASH_LENGTH],
        digest=digest,
        members=members,
        patched=patch_sites(members),
    )
