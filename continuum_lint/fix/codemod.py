"""The codemod that applies the fix families at the positions the scanner reported.

The scanner says *where* (code, line, column); this module parses the file with libcst,
finds the node that starts there, checks it is what the code is about (its qualified
name, resolved through imports and aliases by libcst) and that it sits lexically inside
a ``@continuum.workflow`` or ``@continuum.pure`` function, then asks the family for a
rewrite. A rewrite is dropped when it would lose a comment, or when the name it needs
(``continuum``, ``sorted``) means something else at that spot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst
from libcst.codemod import CodemodContext, VisitorBasedCodemodCommand
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor
from libcst.metadata import (
    BuiltinAssignment,
    ImportAssignment,
    PositionProvider,
    QualifiedNameProvider,
    ScopeProvider,
)

from continuum_lint.fix.build import comment_count, keep_parentheses
from continuum_lint.fix.clock import fix_clock_call
from continuum_lint.fix.sets import consumes_a_set, fix_set_call, fix_set_iteration
from continuum_lint.fix.values import fix_value_call

CallFix = Callable[["FixCommand", str, cst.Call, cst.Call], cst.BaseExpression | None]

CALL_FIXES: dict[str, CallFix] = {
    "CNT101": fix_clock_call,
    "CNT102": fix_value_call,
    "CNT103": fix_value_call,
}
"""Codes whose reported calls are rewritten by qualified name (they need ``continuum``)."""

SET_CODE = "CNT216"

FIXABLE_CODES: frozenset[str] = frozenset({*CALL_FIXES, SET_CODE})
"""Every code that has a safe fix for at least some of its findings."""

_REMOVABLE_IMPORTS = frozenset({"time", "datetime", "random", "uuid"})
"""Modules whose import has no side effects: an import of them the fix left unused goes."""

_CHECKED_DECORATORS = frozenset({"workflow", "pure"})

Position = tuple[int, int]


@dataclass
class FixTargets:
    """The findings to fix, by position, and the ones fixed so far."""

    wanted: dict[Position, set[str]]
    fixed: list[tuple[int, int, str]] = field(default_factory=list)

    def codes_at(self, position: Position) -> set[str]:
        """Codes reported at ``position`` and not fixed yet."""
        return self.wanted.get(position, set())

    def done(self, position: Position, code: str) -> None:
        """Mark ``code`` at ``position`` as fixed."""
        self.wanted[position].discard(code)
        self.fixed.append((*position, code))


class FixCommand(VisitorBasedCodemodCommand):
    """Rewrite the reported calls and set iterations that have a safe equivalent."""

    DESCRIPTION = "Continuum lint autofix: journaled clock/random/uuid, sorted set iteration."
    METADATA_DEPENDENCIES = (PositionProvider, QualifiedNameProvider, ScopeProvider)

    def __init__(self, context: CodemodContext, targets: FixTargets, *, drop_imports: bool):
        super().__init__(context)
        self.targets = targets
        self.drop_imports = drop_imports
        self.checked_depth = 0
        self.function_stack: list[bool] = []

    # -- FixEnv -------------------------------------------------------------------

    @property
    def api(self) -> str:
        """The ``continuum`` package's name (an ``import continuum`` is added when needed)."""
        return "continuum"

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        """The single qualified name libcst resolves ``node`` to."""
        names = self.get_metadata(QualifiedNameProvider, node, set())
        if len(names) != 1:
            return None
        (name,) = names
        return name.name

    def is_builtin(self, node: cst.CSTNode, name: str) -> bool:
        """Whether ``name`` is the builtin at ``node``."""
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return False
        return all(isinstance(a, BuiltinAssignment) for a in scope[name])

    def _continuum_usable(self, node: cst.CSTNode) -> bool:
        """``continuum`` at ``node`` is the package (or unbound, so an import can add it)."""
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return False
        for assignment in scope["continuum"]:
            if not isinstance(assignment, ImportAssignment):
                return False
            statement = assignment.node
            if not isinstance(statement, cst.Import):
                return False
            for alias in statement.names:
                bound = alias.evaluated_alias or alias.evaluated_name.split(".")[0]
                if bound == "continuum" and alias.evaluated_name.split(".")[0] != "continuum":
                    return False
        return True

    # -- where we are -------------------------------------------------------------

    def _is_checked(self, node: cst.FunctionDef) -> bool:
        for decorator in node.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                expr = expr.func
            qname = self.qualified_name(expr)
            if qname is None or not qname.startswith("continuum."):
                continue
            if qname.rsplit(".", 1)[1] in _CHECKED_DECORATORS:
                return True
        return False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        checked = self._is_checked(node)
        self.function_stack.append(checked)
        self.checked_depth += checked

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        self.checked_depth -= self.function_stack.pop()
        return updated_node

    def _position(self, node: cst.CSTNode) -> Position:
        start = self.get_metadata(PositionProvider, node).start
        return (start.line, start.column)

    def _accept(
        self, original: cst.BaseExpression, new: cst.BaseExpression, position: Position, code: str
    ) -> bool:
        if comment_count(new) < comment_count(original):
            return False
        self.targets.done(position, code)
        return True

    # -- rewrites -----------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        if not self.checked_depth:
            return updated_node
        position = self._position(original_node)
        codes = self.targets.codes_at(position)
        if not codes:
            return updated_node
        if SET_CODE in codes and consumes_a_set(self, original_node):
            new = fix_set_call(self, original_node, updated_node)
            if new is not None and self._accept(updated_node, new, position, SET_CODE):
                return keep_parentheses(new, updated_node)
            return updated_node
        qname = self.qualified_name(original_node.func)
        for code in sorted(codes & CALL_FIXES.keys()):
            if qname is None or not self._continuum_usable(original_node):
                break
            new = CALL_FIXES[code](self, qname, original_node, updated_node)
            if new is not None and self._accept(updated_node, new, position, code):
                AddImportsVisitor.add_needed_import(self.context, "continuum")
                if self.drop_imports and qname.split(".")[0] in _REMOVABLE_IMPORTS:
                    # Names in the kept arguments stay referenced, so only imports
                    # the rewrite dropped (``time``, ``timezone``) can go.
                    RemoveImportsVisitor.remove_unused_import_by_node(self.context, original_node)
                return keep_parentheses(new, updated_node)
        return updated_node

    def _fix_iter(
        self, original: cst.BaseExpression, updated: cst.BaseExpression
    ) -> cst.BaseExpression:
        if not self.checked_depth:
            return updated
        position = self._position(original)
        if SET_CODE not in self.targets.codes_at(position):
            return updated
        new = fix_set_iteration(self, original, updated)
        if new is not None and self._accept(updated, new, position, SET_CODE):
            return new
        return updated

    def leave_For(self, original_node: cst.For, updated_node: cst.For) -> cst.For:
        return updated_node.with_changes(iter=self._fix_iter(original_node.iter, updated_node.iter))

    def leave_CompFor(self, original_node: cst.CompFor, updated_node: cst.CompFor) -> cst.CompFor:
        return updated_node.with_changes(iter=self._fix_iter(original_node.iter, updated_node.iter))
