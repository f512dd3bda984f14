"""CNT110: ``async def`` workflows (workflows are synchronous functions)."""

from __future__ import annotations

import ast

from continuum_lint.rules.base import CodeDoc, Context, Invalid, Rule


class AsyncWorkflow(Rule):
    """Workflows are replayed synchronously; an ``async def`` workflow is rejected."""

    NAME = "async-workflow"
    CODES = (
        CodeDoc(
            "CNT110",
            "async def workflow",
            "@continuum.workflow\nasync def order_flow(order: Order) -> Receipt: ...",
            "@continuum.workflow\ndef order_flow(order: Order) -> Receipt: ...",
        ),
    )
    VALID = (
        "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> int:\n    return x\n",
        "import continuum\n\n@continuum.activity\nasync def act(x: int) -> int:\n    return x\n",
    )
    INVALID = (
        Invalid(
            "import continuum\n\n@continuum.workflow\nasync def flow(x: int) -> int:\n"
            "    return x\n",
            ("CNT110",),
        ),
        Invalid(
            "from continuum import workflow as wf\n\n@wf(version=2)\n"
            "async def flow(x: int) -> int:\n"
            "    return x\n",
            ("CNT110",),
        ),
    )

    def visit_FunctionDef(self, ctx: Context, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        asynchronous = isinstance(node, ast.AsyncFunctionDef)
        if node is ctx.function.node and ctx.function.kind == "workflow" and asynchronous:
            ctx.report(
                node,
                "CNT110",
                f"async def {node.name}",
                "is an async workflow; workflows are synchronous",
                "declare it with def and use continuum.start_activity/gather for concurrency",
            )
