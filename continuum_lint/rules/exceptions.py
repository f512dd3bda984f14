"""CNT111/CNT211: broad ``except`` that can swallow the engine's suspend; CNT112: ``finally``
with ``return``/``break``/``continue``.

The engine suspends a workflow by raising a ``BaseException`` from an effect. Only a bare
``except:``, ``except BaseException`` (or ``asyncio.CancelledError``) can catch it, and a
``return`` in ``finally`` discards it; either way the run continues past a suspension.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, TargetKind
from continuum_lint.trust import SUSPENDING_API

_BROAD = {"builtins.BaseException", "asyncio.CancelledError", "asyncio.exceptions.CancelledError"}
_HINT = "catch Exception (or a specific error) instead, or re-raise with a bare raise"


_NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_LOOPS = (ast.For, ast.AsyncFor, ast.While)


class _Scan:
    """Find effects, raises and control-flow exits in a block, not entering nested scopes."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.effect = False
        self.raises = False
        self.exits: list[ast.stmt] = []

    def scan(self, node: ast.AST, loops: int) -> None:
        if isinstance(node, _NESTED_SCOPES):
            return
        if isinstance(node, ast.Call):
            target = self.ctx.classify(node)
            if target.kind is TargetKind.FOLLOW or (
                target.kind is TargetKind.API
                and target.qname is not None
                and target.qname.split(".")[1] in SUSPENDING_API
            ):
                self.effect = True
        elif isinstance(node, ast.Raise):
            self.raises = True
        elif isinstance(node, ast.Return) or (
            isinstance(node, ast.Break | ast.Continue) and not loops
        ):
            self.exits.append(node)
        elif isinstance(node, _LOOPS):
            loops += 1
        for child in ast.iter_child_nodes(node):
            self.scan(child, loops)


def _scan(ctx: Context, block: Iterable[ast.AST]) -> _Scan:
    scan = _Scan(ctx)
    for node in block:
        scan.scan(node, 0)
    return scan


class ExceptionSwallowing(Rule):
    """Broad handlers and ``finally`` exits that can swallow a suspension."""

    NAME = "exception-swallowing"
    CODES = (
        CodeDoc(
            "CNT111",
            "Bare except / except BaseException around an effect",
            "try:\n    charge = continuum.execute(charge_card, order.id)\n"
            "except:\n    charge = None",
            "try:\n    charge = continuum.execute(charge_card, order.id)\n"
            "except continuum.ActivityFailed:\n    charge = None",
        ),
        CodeDoc(
            "CNT112",
            "return / break / continue in finally",
            "try:\n    continuum.execute(ship, order.id)\nfinally:\n    return receipt",
            "try:\n    continuum.execute(ship, order.id)\nfinally:\n    cleanup_done = True\n"
            "return receipt",
        ),
        CodeDoc(
            "CNT211",
            "Bare except / except BaseException in workflow code",
            "try:\n    total = compute(order)\nexcept:\n    total = 0",
            "try:\n    total = compute(order)\nexcept ValueError:\n    total = 0",
        ),
    )
    VALID = (
        "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n    try:\n"
        "        return continuum.execute(act, x)\n    except Exception:\n        return None\n",
        "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n    try:\n"
        "        return continuum.execute(act, x)\n    except BaseException:\n        raise\n",
        "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
        "    for i in range(3):\n"
        "        try:\n            x += 1\n        finally:\n            for j in range(2):\n"
        "                break\n    return x\n",
    )
    INVALID = (
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n    try:\n"
            "        return continuum.execute(act, x)\n    except:\n        return None\n",
            ("CNT111",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n    try:\n"
            "        continuum.sleep(continuum.seconds(5))\n    except BaseException:\n"
            "        pass\n    return x\n",
            ("CNT111",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n    try:\n"
            "        continuum.wait_signal('go')\n    finally:\n        return x\n",
            ("CNT112",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> int:\n    try:\n"
            "        y = int('3')\n    except:\n        y = 0\n    return y\n",
            ("CNT211",),
        ),
    )

    def visit_Try(self, ctx: Context, node: ast.Try) -> None:
        self._handlers(ctx, node, node.handlers)
        if node.finalbody:
            for exit_node in _scan(ctx, node.finalbody).exits:
                keyword = type(exit_node).__name__.lower()
                ctx.report(
                    exit_node,
                    "CNT112",
                    f"{keyword} in finally",
                    "discards any exception in flight, including the engine's suspend",
                    f"move the {keyword} after the try statement",
                )

    def visit_TryStar(self, ctx: Context, node: ast.Try) -> None:
        self._handlers(ctx, node, node.handlers)

    def _handlers(self, ctx: Context, node: ast.Try, handlers: list[ast.ExceptHandler]) -> None:
        effect: bool | None = None
        for handler in handlers:
            if not self._broad(ctx, handler.type):
                continue
            if _scan(ctx, handler.body).raises:
                continue
            if effect is None:
                effect = _scan(ctx, node.body).effect
            label = (
                "bare except:" if handler.type is None else f"except {ctx.source_of(handler.type)}"
            )
            if effect:
                text = "can swallow the engine's suspend around an effect"
                ctx.report(handler, "CNT111", label, text, _HINT)
            else:
                text = "in workflow code can swallow the engine's suspend"
                ctx.report(handler, "CNT211", label, text, _HINT)

    def _broad(self, ctx: Context, kind: ast.expr | None) -> bool:
        if kind is None:
            return True
        if isinstance(kind, ast.Tuple):
            return any(self._broad(ctx, e) for e in kind.elts)
        return ctx.resolve(kind) in _BROAD
