"""CNT215: global/module state mutation; CNT115: decimal context mutation.

Module state survives between runs in one worker and is fresh after a restart, so code
that writes it behaves differently on replay.
"""

from __future__ import annotations

import ast

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, display
from continuum_lint.trust import prefix_match

_MUTATORS = frozenset(
    {"append", "extend", "insert", "remove", "clear", "pop", "popitem", "update", "setdefault"}
    | {"add", "discard", "sort", "reverse", "appendleft", "popleft", "extendleft"}
)
_CACHES = ("functools.lru_cache", "functools.cache", "functools.cached_property")
_SHARED = ("import", "module-value", "module-class")
_HINT = "keep state in local variables and the workflow's input/result"
_TEXT = "mutates module state from workflow code"


def _head(node: ast.expr) -> ast.expr:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node


class GlobalState(Rule):
    """``global``/``nonlocal``, module attribute and module container writes, caches."""

    NAME = "global-state"
    CODES = (
        CodeDoc(
            "CNT215",
            "global / nonlocal and module-state mutation",
            "SEEN: list[str] = []\n\n@continuum.workflow\ndef order_flow(order: Order) -> None:\n"
            "    SEEN.append(order.id)",
            "seen = [*order.previous_ids, order.id]  # local state",
        ),
        CodeDoc(
            "CNT115",
            "decimal context mutation",
            "decimal.getcontext().prec = 4",
            "with decimal.localcontext(prec=4): ...  # or quantize() explicitly",
        ),
    )
    VALID = (
        "import continuum\n\nLIMITS = {'eu': 3}\n\n@continuum.workflow\ndef flow(x: str) -> int:\n"
        "    seen = []\n    seen.append(x)\n    return LIMITS.get(x, 0) + len(seen)\n",
        "import decimal\nimport continuum\n\n@continuum.pure\ndef money(x: str) -> object:\n"
        "    return decimal.Decimal(x).quantize(decimal.Decimal('0.01'))\n",
    )
    INVALID = (
        Invalid(
            "import continuum\n\nCOUNT = 0\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
            "    global COUNT\n    COUNT += 1\n    return COUNT\n",
            ("CNT215",),
        ),
        Invalid(
            "import continuum\n\nSEEN: list[int] = []\n\n@continuum.workflow\n"
            "def flow(x: int) -> None:\n    SEEN.append(x)\n",
            ("CNT215",),
        ),
        Invalid(
            "import continuum\n\nCACHE: dict[int, int] = {}\n\n@continuum.workflow\n"
            "def flow(x: int) -> None:\n    CACHE[x] = x\n",
            ("CNT215",),
        ),
        Invalid(
            "import json\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> None:\n"
            "    json.DEFAULT = x\n",
            ("CNT215",),
        ),
        Invalid(
            "import functools\nimport continuum\n\n@continuum.pure\n@functools.lru_cache\n"
            "def rate(x: int) -> int:\n    return x\n",
            ("CNT215",),
        ),
        Invalid(
            "import decimal\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> None:\n"
            "    decimal.getcontext().prec = 4\n",
            ("CNT115",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> None:\n"
            "    setattr(continuum, 'flag', x)\n",
            ("CNT215",),
        ),
    )

    def visit_FunctionDef(self, ctx: Context, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            expr = decorator.func if isinstance(decorator, ast.Call) else decorator
            qname = ctx.resolve(expr)
            if qname is not None and prefix_match(qname, _CACHES):
                text = "caches results in module state shared across runs"
                at = ctx.module.decorator_position(decorator)
                ctx.report(decorator, "CNT215", f"@{qname}", text, _HINT, at=at)

    def visit_Global(self, ctx: Context, node: ast.Global) -> None:
        names = ", ".join(node.names)
        ctx.report(node, "CNT215", f"global {names}", _TEXT, _HINT)

    def visit_Nonlocal(self, ctx: Context, node: ast.Nonlocal) -> None:
        names = ", ".join(node.names)
        ctx.report(node, "CNT215", f"nonlocal {names}", _TEXT, _HINT)

    def visit_Assign(self, ctx: Context, node: ast.Assign) -> None:
        for target in node.targets:
            self._target(ctx, target)

    def visit_AugAssign(self, ctx: Context, node: ast.AugAssign) -> None:
        self._target(ctx, node.target)

    def visit_AnnAssign(self, ctx: Context, node: ast.AnnAssign) -> None:
        self._target(ctx, node.target)

    def visit_Delete(self, ctx: Context, node: ast.Delete) -> None:
        for target in node.targets:
            self._target(ctx, target)

    def _target(self, ctx: Context, target: ast.expr) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                self._target(ctx, element)
            return
        if isinstance(target, ast.Starred):
            self._target(ctx, target.value)
            return
        if not isinstance(target, ast.Attribute | ast.Subscript):
            return
        base = target.value
        if isinstance(base, ast.Call) and ctx.resolve(base.func) == "decimal.getcontext":
            ctx.report(
                target,
                "CNT115",
                "decimal.getcontext() mutation",
                "changes the process-wide decimal context",
                "use decimal.localcontext() or pass the context explicitly",
            )
            return
        head = _head(target)
        if isinstance(head, ast.Name) and ctx.module.binding(head) in _SHARED:
            ctx.report(target, "CNT215", ctx.source_of(target), _TEXT, _HINT)

    def visit_Call(self, ctx: Context, node: ast.Call) -> None:
        qname = ctx.resolve(node.func)
        if qname in ("builtins.setattr", "builtins.delattr"):
            ctx.report(node, "CNT215", f"{display(qname)}()", _TEXT, _HINT)
            return
        if qname == "decimal.setcontext":
            text = "changes the process-wide decimal context"
            ctx.report(node, "CNT115", "decimal.setcontext()", text, "use decimal.localcontext()")
            return
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
            head = _head(func.value)
            if not isinstance(head, ast.Name):
                return
            shared = ctx.module.binding(head) == "module-value"
            if shared or ctx.resolve(func.value) == "sys.modules":
                ctx.report(node, "CNT215", ctx.source_of(func) + "()", _TEXT, _HINT)
