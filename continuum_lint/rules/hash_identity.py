"""CNT217: ``hash()``, ``id()``, ``gc``, ``sys.getrefcount`` and weak containers.

Their values depend on the hash seed, memory addresses or the garbage collector, so
they differ between the original run and a replay.
"""

from __future__ import annotations

import ast

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, display
from continuum_lint.trust import prefix_match

_NAMES = ("builtins.hash", "builtins.id", "gc", "sys.getrefcount", "weakref")
_HINT = "use a stable key (hashlib.sha256 of the JSON, or the value itself)"


class HashIdentity(Rule):
    """Hash-seed and address-dependent values differ across replays."""

    NAME = "hash-identity"
    CODES = (
        CodeDoc(
            "CNT217",
            "hash(), id(), gc and weak references",
            "bucket = hash(order.customer) % 16",
            "bucket = int(hashlib.sha256(order.customer.encode()).hexdigest(), 16) % 16",
        ),
    )
    VALID = (
        "import hashlib\nimport continuum\n\n@continuum.workflow\ndef flow(x: str) -> int:\n"
        "    return int(hashlib.sha256(x.encode()).hexdigest(), 16) % 16\n",
    )
    INVALID = (
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: str) -> int:\n"
            "    return hash(x) % 16\n",
            ("CNT217",),
        ),
        Invalid(
            "import continuum\n\n@continuum.pure\ndef key(x: object) -> int:\n    return id(x)\n",
            ("CNT217",),
        ),
        Invalid(
            "import weakref\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n"
            "    return weakref.WeakSet()\n",
            ("CNT217",),
        ),
    )

    def visit_Call(self, ctx: Context, node: ast.Call) -> None:
        qname = ctx.resolve(node.func)
        if qname is not None and prefix_match(qname, _NAMES):
            text = "depends on the hash seed, memory addresses or the garbage collector"
            ctx.report(node, "CNT217", f"{display(qname)}()", text, _HINT)
