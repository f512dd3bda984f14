"""Fast read-only traversal of libcst trees.

``CSTNode.visit`` rebuilds and re-validates every node it passes, which dominates the
scanner's cost; the scanner only reads, so it walks dataclass fields directly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import libcst as cst

_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}
_SKIPPED = frozenset({"whitespace", "lpar", "rpar", "comma", "semicolon", "dot", "colon"})


def _fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = tuple(
            f.name
            for f in dataclasses.fields(kind)
            if not f.name.startswith("whitespace") and f.name not in _SKIPPED
        )
        _FIELDS[kind] = names
    return names


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """The child nodes of ``node`` that carry code (whitespace and punctuation skipped)."""
    for name in _fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, tuple | list):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item
