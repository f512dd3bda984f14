"""CNT114: in a module that uses sagas, an activity executed without ``compensate=``.

A module uses sagas when any call passes ``compensate=`` or calls
``continuum.compensation``/``compensate``/``compensate_all``. Opt a step out with
``compensate=None``; call sites passing ``**opts`` are not flagged (the option may be there).
"""

from __future__ import annotations

import ast

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, TargetKind
from continuum_lint.walk import call_args

_HINT = "pass compensate=continuum.compensation(undo, ...), or compensate=None if nothing to undo"

_SAGA = (
    "import continuum\n\n@continuum.workflow\ndef flow(order_id: str) -> None:\n"
    "    undo = continuum.compensation(release, order_id)\n"
    "    continuum.execute(reserve, order_id, compensate=undo)\n"
)


class UncompensatedActivity(Rule):
    """Every step of a saga says how it is undone, or says explicitly that it is not."""

    NAME = "uncompensated-activity"
    CODES = (
        CodeDoc(
            "CNT114",
            "Activity without compensate= in a saga module",
            "continuum.execute(reserve, order.id,\n"
            "                  compensate=continuum.compensation(release, order.id))\n"
            "continuum.execute(charge, order.id)",
            "continuum.execute(\n    charge, order.id,\n"
            "    compensate=continuum.compensation(refund, order.id),\n)",
        ),
    )
    VALID = (
        _SAGA + "    continuum.execute(notify, order_id, compensate=None)\n",
        _SAGA
        + "    opts = {'compensate': None}\n    continuum.execute(notify, order_id, **opts)\n",
        "import continuum\n\n@continuum.workflow\ndef flow(order_id: str) -> None:\n"
        "    continuum.execute(notify, order_id)\n",
    )
    INVALID = (
        Invalid(_SAGA + "    continuum.execute(ship, order_id)\n", ("CNT114",)),
        Invalid(
            "import continuum\n\ndef step(order_id: str) -> None:\n"
            "    continuum.execute(ship, order_id)\n\n@continuum.workflow\n"
            "def flow(order_id: str) -> None:\n"
            "    step(order_id)\n    continuum.compensate_all()\n",
            ("CNT114",),
        ),
    )

    def visit_Call(self, ctx: Context, node: ast.Call) -> None:
        if not ctx.module.uses_sagas:
            return
        target = ctx.classify(node)
        if target.kind is not TargetKind.API or target.qname != "continuum.execute":
            return
        if any(k.arg is None or k.arg == "compensate" for k in node.keywords):
            return
        args = call_args(node)
        first = ctx.source_of(args[0].value) if args else ""
        ctx.report(
            node,
            "CNT114",
            f"continuum.execute({first}, ...)",
            "runs an activity without compensate= in a module that uses sagas",
            _HINT,
        )
