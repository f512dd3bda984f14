"""CNT216: iterating a ``set``/``frozenset`` (order depends on the hash seed).

``sorted(s)`` is the fix and is never flagged. Dict iteration is insertion-ordered and fine.
A comprehension over a set whose result does not depend on the order is fine too: a set
comprehension, or a generator/list comprehension passed straight to ``sorted``, ``min``,
``max`` (without ``key=``, which lets ties keep the set's order), ``set``, ``frozenset``,
``any``, ``all`` or ``len`` — as long as nothing in it calls out (an effect, a helper) or
mutates (``append``, a walrus): those would run in hash-seed order.
"""

from __future__ import annotations

import ast

from continuum_lint.names import BindingKind
from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, TargetKind
from continuum_lint.walk import call_args

_SET_TYPES = frozenset(
    {"builtins.set", "builtins.frozenset", "typing.Set", "typing.FrozenSet", "typing.AbstractSet"}
    | {"collections.abc.Set", "collections.abc.MutableSet"}
)
_SET_METHODS = frozenset({"union", "intersection", "difference", "symmetric_difference", "copy"})
_CONSUMERS = frozenset({"builtins.list", "builtins.tuple", "builtins.enumerate", "builtins.iter"})
_ORDER_FREE = frozenset(
    {"builtins.set", "builtins.frozenset", "builtins.any", "builtins.all", "builtins.len"}
    | {"builtins.sorted", "builtins.min", "builtins.max"}
)
"""Consumers whose result does not depend on the order of what they get, without keywords
(``key=`` makes ``sorted``/``min``/``max`` keep the set's order among ties)."""
_MUTATORS = frozenset(
    {"append", "extend", "insert", "remove", "clear", "sort", "reverse", "update", "pop"}
    | {"setdefault", "popitem", "add", "discard", "appendleft", "popleft", "extendleft"}
)
_PURE_TARGETS = frozenset({TargetKind.BUILTIN, TargetKind.TRUSTED, TargetKind.LOCAL})
_HINT = "iterate sorted(...) instead"
_TEXT = "iterates a set, whose order depends on the hash seed"


def is_set(ctx: Context, expr: ast.expr, depth: int = 0) -> bool:
    """Whether ``expr`` is (statically) a set or frozenset."""
    if depth > 4:
        return False
    if isinstance(expr, ast.Set | ast.SetComp):
        return True
    if isinstance(expr, ast.Call):
        func = expr.func
        if ctx.resolve(func) in ("builtins.set", "builtins.frozenset"):
            return True
        if isinstance(func, ast.Attribute) and func.attr in _SET_METHODS:
            return is_set(ctx, func.value, depth + 1)
        return False
    if isinstance(expr, ast.BinOp) and isinstance(
        expr.op, ast.BitOr | ast.BitAnd | ast.BitXor | ast.Sub
    ):
        return is_set(ctx, expr.left, depth + 1) or is_set(ctx, expr.right, depth + 1)
    if isinstance(expr, ast.Name):
        return _name_is_set(ctx, expr, depth)
    return False


def _name_is_set(ctx: Context, name: ast.Name, depth: int) -> bool:
    bindings = ctx.module.bindings(name)
    if len(bindings) != 1:
        return False
    (binding,) = bindings
    if binding.kind is BindingKind.PARAM:
        annotation = binding.annotation
        return annotation is not None and _annotation_is_set(ctx, annotation)
    value = binding.value
    return value is not None and is_set(ctx, value, depth + 1)


def _annotation_is_set(ctx: Context, annotation: ast.expr) -> bool:
    if isinstance(annotation, ast.Subscript):
        annotation = annotation.value
    return ctx.resolve(annotation) in _SET_TYPES


def _order_free_use(ctx: Context, comp: ast.AST | None, consumer: ast.AST | None) -> bool:
    """Whether the comprehension ``comp`` (one generator) gives the same result in any order."""
    if isinstance(comp, ast.SetComp):
        return True
    if not isinstance(comp, ast.GeneratorExp | ast.ListComp) or not isinstance(consumer, ast.Call):
        return False
    if consumer.args != [comp] or consumer.keywords:
        return False
    return ctx.resolve(consumer.func) in _ORDER_FREE


def _runs_nothing(ctx: Context, comp: ast.AST) -> bool:
    """No effect, helper call, mutation or walrus inside ``comp``: only values are built."""
    for node in ast.walk(comp):
        if isinstance(node, ast.NamedExpr):
            return False
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _MUTATORS:
                return False
            if ctx.classify(node).kind not in _PURE_TARGETS:
                return False
    return True


class SetIteration(Rule):
    """Set iteration order varies with ``PYTHONHASHSEED`` between runs and replays."""

    NAME = "set-iteration"
    CODES = (
        CodeDoc(
            "CNT216",
            "Iterating a set or frozenset",
            "for sku in set(order.skus):\n    continuum.execute(reserve, sku)",
            "for sku in sorted(set(order.skus)):\n    continuum.execute(reserve, sku)",
        ),
    )
    VALID = (
        "import continuum\n\n@continuum.workflow\ndef flow(xs: list[str]) -> list[str]:\n"
        "    return [x for x in sorted(set(xs))]\n",
        "import continuum\n\n@continuum.workflow\ndef flow(xs: dict[str, int]) -> list[str]:\n"
        "    return [k for k in xs]\n",
        "import continuum\n\n@continuum.workflow\ndef flow(xs: list[str]) -> int:\n"
        "    return len(set(xs))\n",
        "import continuum\n\n@continuum.workflow\ndef flow(tags: set[str]) -> object:\n"
        "    return (sorted(t.upper() for t in tags), {t.lower() for t in tags},\n"
        "            any(t.startswith('x') for t in tags), max(len(t) for t in tags))\n",
    )
    INVALID = (
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(xs: list[str]) -> None:\n"
            "    for x in set(xs):\n        continuum.execute(act, x)\n",
            ("CNT216",),
            expected_fix="import continuum\n\n@continuum.workflow\n"
            "def flow(xs: list[str]) -> None:\n"
            "    for x in sorted(set(xs)):\n        continuum.execute(act, x)\n",
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(xs: set[str]) -> list[str]:\n"
            "    return [x.upper() for x in xs]\n",
            ("CNT216",),
            expected_fix="import continuum\n\n@continuum.workflow\n"
            "def flow(xs: set[str]) -> list[str]:\n"
            "    return [x.upper() for x in sorted(xs)]\n",
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(xs: list[str]) -> str:\n"
            "    seen = {x for x in xs}\n    return ','.join(seen)\n",
            ("CNT216",),
            expected_fix="import continuum\n\n@continuum.workflow\n"
            "def flow(xs: list[str]) -> str:\n"
            "    seen = {x for x in xs}\n    return ','.join(sorted(seen))\n",
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(xs: frozenset[int]) -> list[int]:\n"
            "    return list(xs)\n",
            ("CNT216",),
            expected_fix="import continuum\n\n@continuum.workflow\n"
            "def flow(xs: frozenset[int]) -> list[int]:\n    return sorted(xs)\n",
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(xs: set[int]) -> int:\n"
            "    return xs.pop()\n",
            ("CNT216",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(tags: set[str]) -> object:\n"
            "    seen: list[str] = []\n"
            "    a = sorted(continuum.execute(act, t) for t in tags)\n"
            "    b = sorted((t for t in tags), key=len)\n"
            "    c = any(seen.append(t) for t in tags)\n"
            "    return a, b, c, sum(len(t) for t in tags), {t: 1 for t in tags}\n",
            ("CNT216",) * 5,
            expected_fix="import continuum\n\n@continuum.workflow\n"
            "def flow(tags: set[str]) -> object:\n"
            "    seen: list[str] = []\n"
            "    a = sorted(continuum.execute(act, t) for t in sorted(tags))\n"
            "    b = sorted((t for t in sorted(tags)), key=len)\n"
            "    c = any(seen.append(t) for t in sorted(tags))\n"
            "    return a, b, c, sum(len(t) for t in sorted(tags)), {t: 1 for t in sorted(tags)}\n",
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\n"
            "def flow(xs: list[str]) -> list[tuple[int, str]]:\n"
            "    tags = set(xs) | {'new'}\n"
            "    for i, tag in enumerate(tags, 1):  # numbered\n"
            "        continuum.execute(act, i, tag)\n"
            "    return [(1, t) for t in (tags - {'old'})] + list(zip(range(3), tuple(tags)))\n",
            ("CNT216", "CNT216", "CNT216"),
            expected_fix="import continuum\n\n@continuum.workflow\n"
            "def flow(xs: list[str]) -> list[tuple[int, str]]:\n"
            "    tags = set(xs) | {'new'}\n"
            "    for i, tag in enumerate(sorted(tags), 1):  # numbered\n"
            "        continuum.execute(act, i, tag)\n"
            "    return [(1, t) for t in sorted(tags - {'old'})] + "
            "list(zip(range(3), tuple(sorted(tags))))\n",
        ),
    )

    def visit_For(self, ctx: Context, node: ast.For | ast.AsyncFor) -> None:
        if is_set(ctx, node.iter):
            ctx.report(node.iter, "CNT216", f"for ... in {ctx.source_of(node.iter)}", _TEXT, _HINT)

    def visit_comprehension(self, ctx: Context, node: ast.comprehension) -> None:
        if not is_set(ctx, node.iter):
            return
        comp = ctx.parent()
        generators = getattr(comp, "generators", ())
        if (
            len(generators) == 1
            and comp is not None
            and _order_free_use(ctx, comp, ctx.parent(2))
            and _runs_nothing(ctx, comp)
        ):
            return
        ctx.report(node.iter, "CNT216", f"for ... in {ctx.source_of(node.iter)}", _TEXT, _HINT)

    def visit_Call(self, ctx: Context, node: ast.Call) -> None:
        func = node.func
        args = call_args(node) if node.args or node.keywords else []
        if isinstance(func, ast.Attribute):
            method = func.attr
            popped = method == "pop" and not args and is_set(ctx, func.value)
            joined = method == "join" and len(args) == 1 and is_set(ctx, args[0].value)
            if popped or joined:
                ctx.report(node, "CNT216", ctx.source_of(node), _TEXT, _HINT)
            return
        if args and ctx.resolve(func) in _CONSUMERS and is_set(ctx, args[0].value):
            ctx.report(node, "CNT216", ctx.source_of(node), _TEXT, _HINT)
