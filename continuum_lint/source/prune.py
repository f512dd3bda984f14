"""Keep libcst's work proportional to workflow code: blank what no root can reach.

The scanner already holds the file's ``ast`` tree (flake8 hands it one; ``ast.parse``
is an order of magnitude faster than libcst's parser). Before the source model parses a
file, module-level ``def``/``class``/assignment statements that no workflow, ``@pure``
helper or decorated function can reach *by name* (over-approximated: every identifier
and identifier-like string in kept code counts) are replaced by empty lines. Line
numbers are kept, so every position the model reports is the file's own; imports and
other statements are always kept. Codegen parses whole files (it copies their text).
"""

from __future__ import annotations

import ast
import re

_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)


def _bound(statement: ast.stmt) -> set[str]:
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {statement.name}
    targets: list[ast.expr] = []
    if isinstance(statement, ast.Assign):
        targets = list(statement.targets)
    elif isinstance(statement, ast.AnnAssign):
        targets = [statement.target]
    names: set[str] = set()
    for target in targets:
        names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _names(statement: ast.stmt) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(statement):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.update(re.findall(r"[A-Za-z_]\w*", node.value))
    return found


def _lines(statement: ast.stmt) -> tuple[int, int]:
    first = statement.lineno
    for decorator in getattr(statement, "decorator_list", ()):
        first = min(first, decorator.lineno)
    return first, statement.end_lineno or statement.lineno


def prune(source: str, tree: ast.Module) -> str:
    """``source`` with unreachable module-level definitions blanked (same line count)."""
    body = tree.body
    kept = [
        not isinstance(s, _DEFINITIONS)
        or (isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and bool(s.decorator_list))
        for s in body
    ]
    bound = [_bound(s) if isinstance(s, _DEFINITIONS) else set() for s in body]
    needed: set[str] = set()
    queue = [i for i, keep in enumerate(kept) if keep]
    while queue:
        fresh = set().union(*(_names(body[i]) for i in queue)) - needed
        needed |= fresh
        queue = []
        for index in range(len(body)):
            if not kept[index] and bound[index] & fresh:
                kept[index] = True
                queue.append(index)
    if all(kept):
        return source
    keep_lines: set[int] = set()
    for index, statement in enumerate(body):
        if kept[index]:
            first, last = _lines(statement)
            keep_lines.update(range(first, last + 1))
    blank: set[int] = set()
    for index, statement in enumerate(body):
        if not kept[index]:
            first, last = _lines(statement)
            span = set(range(first, last + 1))
            if not span & keep_lines:
                blank |= span
    parts = _LINE_BREAK.split(source)
    # parts alternates text, separator, text, ...: line n is parts[2 * (n - 1)].
    for line in blank:
        index = 2 * (line - 1)
        if index < len(parts):
            parts[index] = ""
    return "".join(parts)
