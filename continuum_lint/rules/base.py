"""The rule interface, the per-function context rules report through, and call targets.

A rule is a class with ``visit_<NodeType>(self, ctx, node)`` methods; the scanner walks
each checked function once and dispatches every node to every rule that asks for its
type. Each rule documents its codes (:class:`CodeDoc`) and carries ``VALID`` and
``INVALID`` examples, from which ``tests/lint`` generates cases and
``continuum_lint.docgen`` writes the guide.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from continuum_lint.denylist import Entry
from continuum_lint.findings import Hop, RawFinding

if TYPE_CHECKING:
    from continuum_lint.config import Config
    from continuum_lint.model import FunctionInfo, ModuleInfo


@dataclass(frozen=True)
class CodeDoc:
    """Documentation for one code: what it means, an offending example and its fix."""

    code: str
    title: str
    bad: str
    fix: str
    why: str = ""


@dataclass(frozen=True)
class Invalid:
    """A source that must produce exactly ``codes`` (in any order, with repeats).

    ``expected_fix`` is the source after ``continuum lint --fix`` when a safe fix exists;
    ``None`` means the fixer must leave the source unchanged.
    """

    source: str
    codes: tuple[str, ...]
    expected_fix: str | None = None


class TargetKind(Enum):
    """What a call inside checked code goes to."""

    DENIED = "denied"
    API = "api"
    CLIENT = "client"
    BUILTIN = "builtin"
    TRUSTED = "trusted"
    FOLLOW = "follow"
    UNTRUSTED = "untrusted"
    DYNAMIC = "dynamic"
    LOCAL = "local"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Target:
    """The classification of one call site."""

    kind: TargetKind
    qname: str | None = None
    entry: Entry | None = None
    function: FunctionInfo | None = None
    note: str = ""


class Rule:
    """Base class for a determinism rule."""

    NAME: ClassVar[str] = ""
    CODES: ClassVar[tuple[CodeDoc, ...]] = ()
    VALID: ClassVar[tuple[str, ...]] = ()
    INVALID: ClassVar[tuple[Invalid, ...]] = ()


@dataclass
class Context:
    """What a rule sees while one function is walked."""

    module: ModuleInfo
    function: FunctionInfo
    config: Config
    classify: Callable[[ast.Call], Target]
    stack: list[ast.AST] = field(default_factory=list)
    found: list[RawFinding] = field(default_factory=list)

    def parent(self, level: int = 1) -> ast.AST | None:
        """The node ``level`` steps above the one being visited."""
        index = len(self.stack) - 1 - level
        return self.stack[index] if index >= 0 else None

    def resolve(self, node: ast.AST) -> str | None:
        """Qualified name of ``node`` (see :meth:`ModuleInfo.resolve`)."""
        return self.module.resolve(node)

    def report(
        self,
        node: ast.AST,
        code: str,
        label: str,
        text: str,
        hint: str,
        at: tuple[int, int] | None = None,
    ) -> None:
        """Record a finding at ``node`` (or at the position ``at``)."""
        line, col = at or self.module.position(node)
        hop = Hop(label, self.module.path, line, col)
        self.found.append(RawFinding(code, label, text, hint, (hop,)))

    def source_of(self, node: ast.AST, within: ast.AST | None = None) -> str:
        """The source text of ``node``, on one line, shortened.

        With ``within`` (a node that starts where ``node`` does, up to parentheses, such
        as a call around its callee), the parentheses around ``node`` are kept.
        """
        text = " ".join(self.module.segment(node, within).split())
        return text if len(text) <= 60 else text[:57] + "..."


IN_WORKFLOW = "is nondeterministic in workflow code"


def display(qname: str) -> str:
    """A qualified name as users write it (``builtins.open`` → ``open``)."""
    return qname.removeprefix("builtins.")
