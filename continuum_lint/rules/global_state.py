"""CNT215: global/module state mutation; CNT115: decimal context mutation.

Module state survives between runs in one worker and is fresh after a restart, so code
that writes it behaves differently on replay.
"""

from __future__ import annotations

import libcst as cst

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


def _head(node: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(node, cst.Attribute | cst.Subscript):
        node = node.value
    return node


class GlobalState(Rule):
    """``global``/``nonlocal``, module attribute and module container writes, caches."""

    NAME = "global-state"
    CODES = (
        CodeDoc(
            "CNT215",
            "global / nonlocal and module-state mutation",
            "SEEN: list[str] = []\n...\n    SEEN.append(order.id)",
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

    def visit_FunctionDef(self, ctx: Context, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            expr = decorator.decorator
            expr = expr.func if isinstance(expr, cst.Call) else expr
            qname = ctx.resolve(expr)
            if qname is not None and prefix_match(qname, _CACHES):
                text = "caches results in module state shared across runs"
                ctx.report(decorator, "CNT215", f"@{qname}", text, _HINT)

    def visit_Global(self, ctx: Context, node: cst.Global) -> None:
        names = ", ".join(n.name.value for n in node.names)
        ctx.report(node, "CNT215", f"global {names}", _TEXT, _HINT)

    def visit_Nonlocal(self, ctx: Context, node: cst.Nonlocal) -> None:
        names = ", ".join(n.name.value for n in node.names)
        ctx.report(node, "CNT215", f"nonlocal {names}", _TEXT, _HINT)

    def visit_AssignTarget(self, ctx: Context, node: cst.AssignTarget) -> None:
        self._target(ctx, node.target)

    def visit_AugAssign(self, ctx: Context, node: cst.AugAssign) -> None:
        self._target(ctx, node.target)

    def visit_AnnAssign(self, ctx: Context, node: cst.AnnAssign) -> None:
        self._target(ctx, node.target)

    def visit_Del(self, ctx: Context, node: cst.Del) -> None:
        self._target(ctx, node.target)

    def _target(self, ctx: Context, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._target(ctx, element.value)
            return
        if not isinstance(target, cst.Attribute | cst.Subscript):
            return
        base = target.value
        if isinstance(base, cst.Call) and ctx.resolve(base.func) == "decimal.getcontext":
            ctx.report(
                target,
                "CNT115",
                "decimal.getcontext() mutation",
                "changes the process-wide decimal context",
                "use decimal.localcontext() or pass the context explicitly",
            )
            return
        head = _head(target)
        if isinstance(head, cst.Name) and ctx.module.binding(head) in _SHARED:
            ctx.report(target, "CNT215", ctx.source_of(target), _TEXT, _HINT)

    def visit_Call(self, ctx: Context, node: cst.Call) -> None:
        qname = ctx.resolve(node.func)
        if qname in ("builtins.setattr", "builtins.delattr"):
            ctx.report(node, "CNT215", f"{display(qname)}()", _TEXT, _HINT)
            return
        if qname == "decimal.setcontext":
            text = "changes the process-wide decimal context"
            ctx.report(node, "CNT115", "decimal.setcontext()", text, "use decimal.localcontext()")
            return
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in _MUTATORS:
            head = _head(func.value)
            if not isinstance(head, cst.Name):
                return
            shared = ctx.module.binding(head) == "module-value"
            if shared or ctx.resolve(func.value) == "sys.modules":
                ctx.report(node, "CNT215", ctx.source_of(func) + "()", _TEXT, _HINT)
