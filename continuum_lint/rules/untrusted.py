"""CNT113/CNT213: calls into helpers that are not ``@pure``, stdlib-trusted or trusted.

Severity follows ``untrusted_call_severity`` in ``[tool.continuum]``: ``"warn"`` (the
default) reports CNT213, ``"error"`` reports CNT113. ``@pure`` helpers are checked the
same way, so a helper cannot launder an untrusted call into the trusted set.
"""

from __future__ import annotations

import ast

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, TargetKind, display

_HINT = (
    "mark the helper @continuum.pure, add its module to [tool.continuum] trusted_modules, "
    "or run it in an activity"
)


class UntrustedCall(Rule):
    """Workflow code may only call code the scanner checked or was told to trust."""

    NAME = "untrusted-call"
    CODES = (
        CodeDoc(
            "CNT113",
            'Call into an untrusted helper (untrusted_call_severity = "error")',
            "from myapp.pricing import quote\n...\nprice = quote(order)",
            "# myapp/pricing.py\n@continuum.pure\ndef quote(order: Order) -> int: ...",
        ),
        CodeDoc(
            "CNT213",
            "Call into an untrusted helper (default severity)",
            "import numpy\n...\nmean = numpy.mean(values)",
            'statistics.fmean(values)  # or trusted_modules = ["numpy"]',
        ),
    )
    VALID = (
        "import math\nimport json\nimport continuum\n\n@continuum.workflow\n"
        "def flow(x: float) -> str:\n    return json.dumps({'r': math.sqrt(x)})\n",
        "import continuum\n\ndef helper(x: int) -> int:\n    return x * 2\n\n@continuum.workflow\n"
        "def flow(x: int) -> int:\n    return helper(x)\n",
    )
    INVALID = (
        Invalid(
            "import numpy\nimport continuum\n\n@continuum.workflow\n"
            "def flow(x: list[float]) -> float:\n"
            "    return float(numpy.mean(x))\n",
            ("CNT213",),
        ),
        Invalid(
            "from somewhere_unknown import quote\nimport continuum\n\n@continuum.pure\n"
            "def price(x: int) -> int:\n    return quote(x)\n",
            ("CNT213",),
        ),
    )

    def visit_Call(self, ctx: Context, node: ast.Call) -> None:
        target = ctx.classify(node)
        if target.kind is not TargetKind.UNTRUSTED or target.qname is None:
            return
        code = "CNT113" if ctx.config.untrusted_call_severity == "error" else "CNT213"
        module = target.qname.rsplit(".", 1)[0] if "." in target.qname else target.qname
        text = f"calls into {module}, which is not @continuum.pure, stdlib-trusted or trusted"
        if target.note:
            text += f" ({target.note})"
        ctx.report(node, code, f"{display(target.qname)}()", text, _HINT)
