"""CNT218: calls on runtime values (dynamic receivers); CNT219: ``getattr`` dispatch.

The scanner cannot see what a parameter, a value read from the input, or a computed
callee will run, so such calls are warnings: make the call static, or move it into an
activity. Ordinary value methods (``lines.append``, ``name.upper``) and local closures
(nested ``def``, ``lambda``) are not flagged, nor a method called on the workflow's input
when the input is annotated with a pydantic model or dataclass defined in the same
module (``sub.next_cycle()``): the scanner sees that method and checks it like a helper
(and codegen hashes it).
"""

from __future__ import annotations

import ast

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, TargetKind
from continuum_lint.walk import call_args, is_string

_HINT = "call a named @continuum.pure helper or an activity instead of a runtime value"
_OPERATOR = ("operator.methodcaller", "operator.attrgetter")


class DynamicReceiver(Rule):
    """Calls the scanner cannot resolve statically."""

    NAME = "dynamic-receiver"
    CODES = (
        CodeDoc(
            "CNT218",
            "Call on a runtime value (dynamic receiver)",
            "@continuum.workflow\ndef order_flow(order: Order) -> None:\n    order.handler()",
            "@continuum.workflow\ndef order_flow(order: Order) -> None:\n"
            '    if order.kind == "gift":  # dispatch explicitly to checked helpers\n'
            "        handle_gift(order)\n"
            "    else:\n"
            "        continuum.execute(handle_order, order)  # or do it in an activity",
        ),
        CodeDoc(
            "CNT219",
            "getattr / methodcaller with a computed name",
            "getattr(pricing, order.strategy)(order)",
            'pricing.quote(order) if order.strategy == "quote" else pricing.flat(order)',
        ),
    )
    VALID = (
        "import continuum\n\n@continuum.workflow\ndef flow(xs: list[str]) -> str:\n"
        "    out = []\n    for x in xs:\n        out.append(x.upper())\n    return ','.join(out)\n",
        "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
        "    double = lambda v: v * 2\n    def triple(v: int) -> int:\n        return v * 3\n"
        "    return double(x) + triple(x)\n",
        "import continuum\n\n@continuum.workflow\ndef flow(x: object) -> object:\n"
        "    return getattr(x, 'name')\n",
        "from __future__ import annotations\n\nimport pydantic\nimport continuum\n\n\n"
        "class Subscription(pydantic.BaseModel):\n    cycle: int = 0\n\n"
        "    def next_cycle(self) -> Subscription:\n"
        "        return Subscription(cycle=self.cycle + 1)\n\n\n"
        "@continuum.workflow\ndef flow(sub: Subscription) -> int:\n"
        "    return sub.next_cycle().cycle\n",
        "import dataclasses\nimport continuum\n\n\n@dataclasses.dataclass\nclass Cart:\n"
        "    items: list[int]\n\n    def total(self) -> int:\n        return sum(self.items)\n\n\n"
        "@continuum.workflow\ndef flow(cart: Cart) -> int:\n    return cart.total()\n",
    )
    INVALID = (
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(handler: object) -> object:\n"
            "    return handler()\n",
            ("CNT218",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(inp: object) -> object:\n"
            "    return inp.handler()\n",
            ("CNT218",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(inp: object) -> object:\n"
            "    return inp.mod.fun(1)\n",
            ("CNT218",),
        ),
        Invalid(  # the input's model is checked like a helper: its method's clock read is found
            "import datetime\nimport pydantic\nimport continuum\n\n\n"
            "class Subscription(pydantic.BaseModel):\n    cycle: int = 0\n\n"
            "    def due(self) -> bool:\n"
            "        return datetime.datetime.now().day == 1\n\n\n"
            "@continuum.workflow\ndef flow(sub: Subscription) -> bool:\n    return sub.due()\n",
            ("CNT101",),
        ),
        Invalid(  # a class that is neither a model nor a dataclass stays a runtime value
            "import continuum\n\n\nclass Plugin:\n    def run(self) -> int:\n        return 1\n\n\n"
            "@continuum.workflow\ndef flow(p: Plugin) -> int:\n    return p.run()\n",
            ("CNT218",),
        ),
        Invalid(
            "import continuum\n\n@continuum.pure\n"
            "def apply(fns: dict[str, object], k: str) -> object:\n"
            "    return fns[k]()\n",
            ("CNT218",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: object, name: str) -> object:\n"
            "    return getattr(x, name)\n",
            ("CNT219",),
        ),
        Invalid(
            "import operator\nimport continuum\n\n@continuum.workflow\n"
            "def flow(x: object, name: str) -> object:\n"
            "    return operator.methodcaller(name)(x)\n",
            ("CNT218", "CNT219"),
        ),
    )

    def visit_Call(self, ctx: Context, node: ast.Call) -> None:
        target = ctx.classify(node)
        if target.kind is TargetKind.DYNAMIC:
            text = "calls a runtime value the scanner cannot check"
            if target.note:
                text += f" ({target.note})"
            ctx.report(node, "CNT218", ctx.source_of(node.func, node) + "()", text, _HINT)
            return
        qname = target.qname
        if qname != "builtins.getattr" and qname not in _OPERATOR:
            return
        args = call_args(node)
        if qname == "builtins.getattr" and len(args) >= 2:
            computed = not is_string(args[1].value)
        elif qname in _OPERATOR and args:
            computed = not all(is_string(a.value) for a in args)
        else:
            return
        if computed:
            label = f"{qname.removeprefix('builtins.')}()"
            ctx.report(node, "CNT219", label, "dispatches on a computed attribute name", _HINT)
