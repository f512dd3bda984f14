"""CNT109: client operations (``continuum.Client`` / ``AsyncClient``) inside workflow code."""

from __future__ import annotations

import ast

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule, TargetKind

_HINT = (
    "start children with continuum.child/start_child; signal, cancel or await other runs "
    "from outside the workflow or from an activity"
)


class ClientOperation(Rule):
    """A workflow must not drive the client: its calls are neither journaled nor replayable."""

    NAME = "client-operation"
    CODES = (
        CodeDoc(
            "CNT109",
            "Client operation inside a workflow",
            "continuum.Client().start(other_flow, order)",
            "continuum.child(other_flow, order)",
        ),
    )
    VALID = (
        "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
        "    return continuum.child(other, x)\n\n@continuum.workflow\ndef other(x: int) -> int:\n"
        "    return x\n",
        "import continuum\n\nclient = continuum.Client()\n\ndef kick_off(x: int) -> str:\n"
        "    return client.start(flow, x)\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
        "    return x\n",
    )
    INVALID = (
        Invalid(
            "import continuum\n\nclient = continuum.Client()\n\n@continuum.workflow\n"
            "def flow(run_id: str) -> None:\n    client.signal(run_id, 'go', 1)\n",
            ("CNT109",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(run_id: str) -> object:\n"
            "    c = continuum.Client()\n    return c.result(run_id)\n",
            ("CNT109", "CNT109"),
        ),
        Invalid(
            "from continuum import AsyncClient\nimport continuum\n\n@continuum.workflow\n"
            "def flow(run_id: str) -> object:\n    return AsyncClient().cancel(run_id)\n",
            ("CNT109",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(client: continuum.Client) -> None:\n"
            "    client.cancel('r-1')\n",
            ("CNT109",),
        ),
    )

    def visit_Call(self, ctx: Context, node: ast.Call) -> None:
        target = ctx.classify(node)
        if target.kind is TargetKind.CLIENT:
            label = f"{target.qname}()"
            ctx.report(node, "CNT109", label, "is a client operation inside workflow code", _HINT)
