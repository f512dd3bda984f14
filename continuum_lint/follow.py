"""Where the scanner meets the source model: what to check, and where each hop is.

The model (:mod:`continuum_lint.source`) decides *what* a workflow or ``@pure`` helper
reaches: its closure, the same one codegen hashes. The rules walk ``ast`` nodes, so this
module maps the model's members to the scanner's :class:`FunctionInfo` and each model
edge to a call (or a reference) in the caller's ``ast``, which gives the hop's position.

An edge is *followed* (the callee is walked and its findings reach the caller through
the hop) unless every reference to it sits inside ``continuum.side_effect(...)``: such a
callable runs once and is journaled, so it is hashed but *journaled*, not checked.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

from continuum_lint.model import ModuleInfo
from continuum_lint.source.closure import Edge, Member, edges_of, method_of
from continuum_lint.source.errors import ModelError
from continuum_lint.source.modules import (
    ModuleCache,
    ModuleSource,
    module_name_for,
    package_root,
    parse_source,
)
from continuum_lint.source.prune import prune

_THIRD_PARTY = frozenset({"site-packages", "dist-packages"})
_NOT_MODULE_LEVEL = frozenset({"param", "local", "closure"})

EdgeKey = tuple[str, str | None]


@dataclass
class Coverage:
    """What the scanner did with each member reached from a root (for the equality test)."""

    walked: dict[str, list[str]] = field(default_factory=dict)
    """member key → keys of the members it followed (walked)."""
    journaled: dict[str, list[str]] = field(default_factory=dict)
    """member key → keys of members reached only through ``side_effect`` (not checked)."""

    def closure_of(self, root: str, model: SourceModel) -> tuple[set[str], set[str]]:
        """(walked, journaled) member keys reachable from ``root`` (root included)."""
        walked: set[str] = set()
        journaled: set[str] = set()
        queue = [root]
        while queue:
            key = queue.pop()
            if key in walked:
                continue
            walked.add(key)
            queue.extend(self.walked.get(key, []))
            for other in self.journaled.get(key, []):
                journaled |= model.reach(other)
        return walked, journaled - walked


class SourceModel:
    """The scanner's view of the model: one libcst parse per checked file, cached."""

    def __init__(self) -> None:
        roots = [Path.cwd()]
        roots += [Path(p) for p in sys.path if p and not _THIRD_PARTY.intersection(Path(p).parts)]
        self.cache = ModuleCache([r for r in dict.fromkeys(roots) if r.is_dir()])
        self.sources: dict[str, ModuleSource | None] = {}
        self.members: dict[str, Member] = {}
        self._edges: dict[str, dict[EdgeKey, Edge]] = {}
        self._ordered: dict[str, list[Edge]] = {}

    def add_root(self, directory: Path) -> None:
        """Search ``directory`` (a checked file's package root) for imported modules."""
        if directory not in self.cache.roots:
            self.cache.roots.insert(0, directory)

    def parse(self, source: str, path: str, tree: ast.Module | None = None) -> ModuleSource:
        """The model of one file (raises :class:`ModelError` when libcst cannot parse it).

        With the file's ``ast`` ``tree``, definitions no root can reach are blanked first
        (:func:`~continuum_lint.source.prune.prune`).
        """
        file = Path(path).resolve()
        key = str(file)
        known = self.sources.get(key)
        if known is not None:
            return known
        name, is_package = module_name_for(file)
        self.add_root(package_root(file.parent))
        try:
            text = source if tree is None else prune(source, tree)
            src = parse_source(name, file, is_package, text, strict=False)
        except RecursionError:
            raise ModelError(f"{path}: too deeply nested to parse") from None
        self.sources[key] = src
        self.cache.add(src)
        return src

    def member(self, src: ModuleSource, qualname: str, kind: str) -> Member | None:
        """The model member for a module-level function or ``Cls.method`` of ``src``."""
        key = f"{src.name}:{qualname}"
        known = self.members.get(key)
        if known is not None:
            return known
        head, _, method = qualname.partition(".")
        node = None
        if method:
            cls = src.classes.get(head)
            node = method_of(cls, method) if cls is not None else None
        else:
            node = src.functions.get(qualname)
        if node is None:
            return None
        kinds = {"workflow": "workflow", "pure": "pure"}
        member = Member(kinds.get(kind, "method" if method else "function"), src, qualname, node)  # type: ignore[arg-type]
        self.members[key] = member
        return member

    def edges(self, member: Member) -> dict[EdgeKey, Edge]:
        """``member``'s edges keyed by what its code reads (``(name, attr)``)."""
        found = self._edges.get(member.key)
        if found is None:
            ordered = edges_of(member, self.cache)
            self._ordered[member.key] = ordered
            found = self._edges[member.key] = {(e.name, e.attr): e for e in ordered}
            for edge in ordered:
                self.members.setdefault(edge.callee.key, edge.callee)
        return found

    def ordered_edges(self, member: Member) -> list[Edge]:
        """``member``'s edges in source order."""
        self.edges(member)
        return self._ordered[member.key]

    def reach(self, key: str) -> set[str]:
        """Code members reachable from the member ``key`` (itself included)."""
        seen: set[str] = set()
        queue = [key]
        while queue:
            current = queue.pop()
            member = self.members.get(current)
            if current in seen or member is None:
                continue
            seen.add(current)
            queue.extend(e.callee.key for e in self.ordered_edges(member))
        return {k for k in seen if self.members[k].is_code}


def edge_for_call(call: ast.Call, module: ModuleInfo, edges: dict[EdgeKey, Edge]) -> Edge | None:
    """The model edge a call goes through (``helper()``, ``Cls.m()``, ``sub.method()``)."""
    if not edges:
        return None
    func = call.func
    if isinstance(func, ast.Name):
        edge = edges.get((func.id, None))
        if edge is not None and module.binding(func) not in _NOT_MODULE_LEVEL:
            return edge
        return None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        head = func.value
        edge = edges.get((head.id, func.attr))
        if edge is None:
            return None
        binding = module.binding(head)
        if edge.via_param:
            return edge if binding == "param" else None
        return edge if binding not in _NOT_MODULE_LEVEL else None
    return None


def references(node: ast.AST, edge: Edge) -> list[ast.AST]:
    """Reads of ``edge``'s name (``name.attr``) under ``node``, in source order."""
    found: list[ast.AST] = []
    for child in ast.walk(node):
        if edge.attr is None:
            if isinstance(child, ast.Name) and child.id == edge.name:
                found.append(child)
        elif (
            isinstance(child, ast.Attribute)
            and child.attr == edge.attr
            and isinstance(child.value, ast.Name)
            and child.value.id == edge.name
        ):
            found.append(child)
    return sorted(found, key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
