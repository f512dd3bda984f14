"""A workflow's static effect graph: the effects its closure calls, in source order.

An effect is a call of a journaled continuum function (``execute``, ``sleep``,
``wait_signal``, ``start_child``, ...). Each carries its *command identity* as the
engine computes it at run time (:func:`continuum.engine.context.call_site`): the
qualified name of the function the call is in and the line offset from that function's
first line (its first decorator's line when decorated), plus its file and line. Two
versions whose graphs are equal issue the same commands at the same identities, so
runs journaled on one replay on the other; otherwise the change needs
``continuum.patched()`` or a new workflow version.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from continuum_lint.source.closure import Closure, Member
from continuum_lint.source.discover import resolve
from continuum_lint.source.modules import ModuleSource, dotted
from continuum_lint.trust import EFFECT_API

_TARGETED = frozenset({"execute", "start_activity", "child", "start_child"})
_NAMED = frozenset({"wait_signal", "patched", "set_event", "wait_update"})


@dataclass(frozen=True)
class Effect:
    """One effect call: what it is, its command identity, and where it is."""

    api: str
    target: str | None
    function: str
    offset: int
    path: str
    line: int

    @property
    def identity(self) -> tuple[str, str | None, str, int]:
        """What must stay equal for old runs to replay: kind, target, qualname, offset."""
        return (self.api, self.target, self.function, self.offset)

    def describe(self) -> str:
        """``execute(charge) at order_flow+8 (flows.py:45)``."""
        target = f"({self.target})" if self.target else "()"
        return f"{self.api}{target} at {self.function}+{self.offset} ({self.path}:{self.line})"


def _first_line(src: ModuleSource, node: cst.FunctionDef) -> int:
    if node.decorators:
        return src.line_of(node.decorators[0].decorator)
    return src.line_of(node.name)


def _target(src: ModuleSource, api: str, call: cst.Call) -> str | None:
    if not call.args:
        return None
    first = call.args[0].value
    if api in _TARGETED:
        return dotted(first)
    if api in _NAMED and isinstance(first, cst.SimpleString):
        value = first.evaluated_value
        return value if isinstance(value, str) else None
    return None


class _Effects(cst.CSTVisitor):
    def __init__(self, src: ModuleSource, path: str, prefix: str) -> None:
        super().__init__()
        self.src = src
        self.path = path
        self.prefix = prefix
        self.stack: list[tuple[str, int]] = []
        self.found: list[Effect] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        name = node.name.value
        outer = f"{self.stack[-1][0]}.<locals>." if self.stack else self.prefix
        qualname = f"{outer}{name}"
        self.stack.append((qualname, _first_line(self.src, node)))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        outer = self.stack[-1][0] if self.stack else self.prefix.rstrip(".")
        self.stack.append((f"{outer}.<locals>.<lambda>", self.src.line_of(node)))

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.stack.pop()

    def visit_Call(self, node: cst.Call) -> None:
        qualified = resolve(self.src, node.func)
        if qualified is None or not qualified.startswith("continuum."):
            return
        api = qualified.rsplit(".", 1)[1]
        if api not in EFFECT_API or not self.stack:
            return
        function, first = self.stack[-1]
        line = self.src.line_of(node)
        self.found.append(
            Effect(api, _target(self.src, api, node), function, line - first, self.path, line)
        )


def member_effects(member: Member, path: str) -> list[Effect]:
    """Effects called in one member's code, in source order."""
    if not isinstance(member.node, cst.FunctionDef):
        return []
    prefix = member.qualname.rpartition(".")[0]
    visitor = _Effects(member.source, path, f"{prefix}." if prefix else "")
    member.node.visit(visitor)
    return visitor.found


def effect_graph(closure: Closure, path_of: dict[str, str] | None = None) -> list[Effect]:
    """The effects of a root's closure: the root's first, then each member's in the
    closure's order; ``path_of`` maps module names to the paths shown."""
    effects: list[Effect] = []
    for member in closure.sorted_members():
        shown = (path_of or {}).get(member.source.name, str(member.source.path))
        effects.extend(member_effects(member, shown))
    return effects


def graph_changed(old: list[Effect], new: list[Effect]) -> list[str]:
    """How two effect graphs differ (empty when every identity is the same, in order)."""
    before = [e.identity for e in old]
    after = [e.identity for e in new]
    if before == after:
        return []
    lines: list[str] = []
    removed = [e for e in old if e.identity not in after]
    added = [e for e in new if e.identity not in before]
    lines.extend(f"- {e.describe()}" for e in removed)
    lines.extend(f"+ {e.describe()}" for e in added)
    if not lines:
        lines.append("~ the same effects in a different order")
    return lines
