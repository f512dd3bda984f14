"""CNT116: a workflow-side call (``continuum.reply``, ``wait_signal``, ``execute``, ...)
inside an activity.

Activities run on activity workers, outside any workflow: the workflow-side API raises
``WorkflowContextError`` there at run time. Unlike the other rules this one looks at
``@continuum.activity`` bodies (the scanner calls :func:`activity_findings`); workflow
and ``@pure`` code is where these calls belong.
"""

from __future__ import annotations

import ast

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, TargetKind
from continuum_lint.trust import WORKFLOW_API

WORKFLOW_ONLY: frozenset[str] = WORKFLOW_API - frozenset(
    {
        "seconds",
        "minutes",
        "hours",
        "days",
        "compensation",
        "logger",
        "Update",
        "Cancelled",
    }
)
"""Workflow-side calls that only work inside a running workflow."""

_HINT = (
    "call it from the workflow (e.g. reply with the activity's result there); an activity "
    "only returns a value or raises"
)


class WorkflowOnlyCall(Rule):
    """Workflow-side calls made from an activity fail at run time."""

    NAME = "workflow-only-call"
    CODES = (
        CodeDoc(
            "CNT116",
            "Workflow-only call inside an activity",
            "@continuum.activity\ndef approve(upd: continuum.Update) -> None:\n"
            "    continuum.reply(upd, {'ok': True})",
            "@continuum.activity\ndef approve(amount: int) -> bool:\n    return amount < 100\n\n"
            "# in the workflow:\nupd = continuum.wait_update('approve')\n"
            "continuum.reply(upd, {'ok': continuum.execute(approve, upd.payload)})",
            "activities run outside any workflow: the workflow-side API is not available there",
        ),
    )
    VALID = (
        "import continuum\n\n@continuum.activity\ndef act(x: int) -> int:\n    return x\n\n"
        "@continuum.workflow\ndef flow(x: int) -> int:\n"
        "    upd = continuum.wait_update('go')\n"
        "    continuum.reply(upd, continuum.execute(act, x))\n"
        "    return x\n",
        "import continuum\n\n@continuum.activity(timeout=continuum.seconds(5))\n"
        "def act(x: int) -> float:\n    return continuum.seconds(x).total_seconds()\n\n"
        "@continuum.workflow\ndef flow(x: int) -> float:\n    return continuum.execute(act, x)\n",
    )
    INVALID = (
        Invalid(
            "import continuum\n\n@continuum.activity\ndef act(upd: continuum.Update) -> None:\n"
            "    continuum.reply(upd, 1)\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
            "    return x\n",
            ("CNT116",),
        ),
        Invalid(
            "from continuum import activity, wait_signal, workflow, set_event\n\n@activity\n"
            "def act(x: int) -> object:\n    set_event('k', x)\n    return wait_signal('go')\n\n"
            "@workflow\ndef flow(x: int) -> int:\n    return x\n",
            ("CNT116", "CNT116"),
        ),
    )


def activity_findings(ctx: Context) -> None:
    """Report every workflow-only call in the activity ``ctx.function`` (nested code too)."""
    for node in ast.walk(ctx.function.node):
        if not isinstance(node, ast.Call):
            continue
        target = ctx.classify(node)
        if target.kind is not TargetKind.API or target.qname is None:
            continue
        name = target.qname.split(".")[1]
        if name in WORKFLOW_ONLY:
            ctx.report(
                node,
                "CNT116",
                f"continuum.{name}()",
                f"is a workflow-only call inside activity {ctx.function.name}",
                _HINT,
            )
