"""Fast read-only traversal of ``ast`` trees, and call arguments in source order.

``ast.iter_child_nodes`` inspects every field of every node; the scanner only needs the
fields that hold code, so the field names are computed once per node type. Annotations,
decorators and imports are not entered (they are not code the function runs).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

_NEVER = frozenset({"ctx", "op", "ops", "type_comment", "type_ignores", "kind"})
"""Fields that never hold code: expression contexts, operators, comments."""

_NOT_ENTERED: dict[str, frozenset[str]] = {
    "FunctionDef": frozenset({"decorator_list", "returns", "type_params"}),
    "AsyncFunctionDef": frozenset({"decorator_list", "returns", "type_params"}),
    "ClassDef": frozenset({"decorator_list", "type_params"}),
    "arg": frozenset({"annotation"}),
    "AnnAssign": frozenset({"annotation"}),
    "Import": frozenset({"names"}),
    "ImportFrom": frozenset({"names"}),
}

_CODE: dict[type[ast.AST], tuple[str, ...]] = {}
_ENTERED: dict[type[ast.AST], tuple[str, ...]] = {}


def code_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    """The fields of ``kind`` that may hold code (cached per type)."""
    names = _CODE.get(kind)
    if names is None:
        names = _CODE[kind] = tuple(name for name in kind._fields if name not in _NEVER)
    return names


def _entered(kind: type[ast.AST]) -> tuple[str, ...]:
    names = _ENTERED.get(kind)
    if names is None:
        skipped = _NOT_ENTERED.get(kind.__name__, frozenset())
        names = _ENTERED[kind] = tuple(n for n in code_fields(kind) if n not in skipped)
    return names


def children(node: ast.AST) -> Iterator[ast.AST]:
    """The child nodes of ``node`` that carry code the function runs."""
    for name in _entered(type(node)):
        value = getattr(node, name, None)
        if isinstance(value, ast.AST):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    yield item


@dataclass(frozen=True, slots=True)
class Arg:
    """One argument of a call: ``keyword`` for ``k=v``, ``star`` ``"*"`` or ``"**"``."""

    value: ast.expr
    keyword: str | None = None
    star: str = ""


def call_args(call: ast.Call) -> list[Arg]:
    """The arguments of ``call`` in source order, positional, keyword and starred alike."""
    args = [
        Arg(a.value, None, "*") if isinstance(a, ast.Starred) else Arg(a, None, "")
        for a in call.args
    ]
    if not call.keywords:
        return args
    keywords = [Arg(k.value, k.arg, "" if k.arg else "**") for k in call.keywords]
    if not args:
        return keywords
    # A keyword may precede a starred positional (``f(a=1, *rest)``): order by position.
    nodes: list[ast.expr | ast.keyword] = [*call.args, *call.keywords]
    merged = sorted(
        zip(nodes, [*args, *keywords], strict=True),
        key=lambda pair: (pair[0].lineno, pair[0].col_offset),
    )
    return [arg for _, arg in merged]


def arg_count(call: ast.Call) -> int:
    """How many arguments ``call`` passes (positional, keyword and starred)."""
    return len(call.args) + len(call.keywords)


def is_string(node: ast.AST | None) -> bool:
    """A string (or bytes) literal."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)
