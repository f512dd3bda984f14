"""Canonical, formatting-free serialization of libcst trees.

The serialization walks the concrete syntax tree and emits each node's type and its
semantic fields, dropping everything a formatter or an author can change without
changing what runs: whitespace, comments, blank lines, parentheses, trailing commas and
other punctuation tokens, string quote style and numeric spelling (literals are emitted
as their evaluated values), and docstrings (the first string statement of a function or
class body). It never looks at bytecode or ``ast.dump``, which differ across Python
versions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import libcst as cst

_NOISE_TYPES: tuple[type[cst.CSTNode], ...] = (
    cst.BaseParenthesizableWhitespace,
    cst.TrailingWhitespace,
    cst.EmptyLine,
    cst.Newline,
    cst.Comment,
    cst.Comma,
    cst.Semicolon,
    cst.Colon,
    cst.Dot,
    cst.AssignEqual,
    cst.LeftParen,
    cst.RightParen,
    cst.LeftSquareBracket,
    cst.RightSquareBracket,
    cst.LeftCurlyBrace,
    cst.RightCurlyBrace,
)
# Fields that only carry layout (not covered by the node types above).
_NOISE_FIELDS = frozenset({"indent", "header", "footer", "leading_lines", "lines_after_decorators"})


def is_docstring(stmt: cst.CSTNode) -> bool:
    """True for a statement consisting of a lone string literal."""
    if isinstance(stmt, cst.SimpleStatementLine):
        return len(stmt.body) == 1 and is_docstring(stmt.body[0])
    return isinstance(stmt, cst.Expr) and isinstance(
        stmt.value, cst.SimpleString | cst.ConcatenatedString
    )


def _flatten(suite: cst.BaseSuite) -> list[cst.CSTNode]:
    # ``a; b`` on one line, two lines, and a one-line ``def f(): return 1`` are layout.
    items: list[cst.CSTNode] = []
    for stmt in suite.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            items.extend(stmt.body)
        else:
            items.append(stmt)
    return items


def _suite(suite: cst.BaseSuite, *, strip_docstring: bool) -> Sequence[cst.CSTNode]:
    items = _flatten(suite)
    if strip_docstring and items and is_docstring(items[0]):
        return items[1:]
    return items


def _literal(node: cst.CSTNode) -> str | None:
    if isinstance(node, cst.SimpleString | cst.ConcatenatedString):
        return repr(node.evaluated_value)
    if isinstance(node, cst.Integer | cst.Float | cst.Imaginary):
        return repr(node.evaluated_value)
    return None


def _emit(value: object, out: list[str]) -> None:
    if isinstance(value, cst.CSTNode):
        _emit_node(value, out)
    elif isinstance(value, list | tuple):
        out.append("[")
        for item in value:
            if not _is_noise(item):
                _emit(item, out)
                out.append(",")
        out.append("]")
    else:
        out.append(repr(value))


def _is_noise(value: object) -> bool:
    # ``None`` is skipped too, so an optional field a newer libcst adds keeps old hashes.
    if value is None:
        return True
    return isinstance(value, (cst.MaybeSentinel, *_NOISE_TYPES))


def _emit_node(node: cst.CSTNode, out: list[str]) -> None:
    if isinstance(node, cst.SimpleStatementLine):
        _emit(list(node.body), out)
        return
    if isinstance(node, cst.BaseSuite):
        out.append("Suite")
        _emit(list(_suite(node, strip_docstring=False)), out)
        return
    out.append(type(node).__name__)
    literal = _literal(node)
    if literal is not None:
        out.append(f"<{literal}>")
        return
    out.append("(")
    for item in dataclasses.fields(node):
        name = item.name
        if name in _NOISE_FIELDS:
            continue
        value = getattr(node, name)
        if _is_noise(value) or (isinstance(value, list | tuple) and all(map(_is_noise, value))):
            continue
        if isinstance(node, cst.FormattedString) and name in {"start", "end"}:
            if name == "start":
                out.append(f"prefix={''.join(sorted(value.lower().strip(chr(34) + chr(39))))!r};")
            continue
        out.append(f"{name}=")
        if name == "body" and isinstance(node, cst.FunctionDef | cst.ClassDef):
            out.append("Suite")
            _emit(list(_suite(value, strip_docstring=True)), out)
        else:
            _emit(value, out)
        out.append(";")
    out.append(")")


def canonical(node: cst.CSTNode) -> str:
    """The canonical text of ``node``: equal for trees that differ only in layout."""
    out: list[str] = []
    _emit_node(node, out)
    return "".join(out)
