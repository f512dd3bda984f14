"""``continuum demo``: the orders example, step by step, on the embedded database.

The run has a fixed id, so interrupting the demo (Ctrl-C, a crash, a reboot) and running
it again resumes the same run where its journal left it instead of starting over.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import click

from continuum import telemetry
from continuum.durations import seconds

DEMO_RUN_ID = "demo-order-1001"

_STEPS = {
    "run.started": "workflow started",
    "activity.completed": "activity finished: {activity}",
    "activity.failed": "activity failed: {activity}",
    "activity.retry": "activity will retry: {activity}",
    "signal.received": "signal received: {signal}",
    "timer.fired": "timer fired",
    "compensation.completed": "compensation finished: {activity}",
    "run.suspended": "workflow suspended, durably waiting on {waiting_on}",
    "run.completed": "workflow completed",
    "run.failed": "workflow failed: {error}",
}


def _load_example() -> tuple[ModuleType, ModuleType]:
    try:
        flows = importlib.import_module("examples.orders.flows")
        models = importlib.import_module("examples.orders.models")
    except ModuleNotFoundError as exc:
        raise click.ClickException(
            "the orders example is not importable; run `continuum demo` from the root of "
            f"the Continuum checkout ({exc})"
        ) from exc
    return flows, models


def _narrate(echo: Callable[[str], None]) -> int:
    def handler(event: str, meta: dict[str, Any]) -> None:
        template = _STEPS.get(event)
        if template is None or meta.get("run_id", "").count("/"):
            return
        activity = str(meta.get("activity", "")).rsplit(":", 1)[-1]
        fields = {
            "activity": activity,
            "signal": meta.get("signal", ""),
            "error": meta.get("error", ""),
            "waiting_on": str(meta.get("waiting_on", "")).replace(
                "examples.orders.activities:", ""
            ),
        }
        echo(f"• {template.format(**fields)}")

    return telemetry.attach("*", handler)


def _order(models: ModuleType) -> Any:
    return models.Order(
        id=DEMO_RUN_ID,
        customer="ada@example.com",
        lines=[
            models.Line(sku="book", quantity=2, unit_price=1500),
            models.Line(sku="lamp", quantity=1, unit_price=4200),
        ],
    )


def _run_in_memory(echo: Callable[[str], None]) -> Any:
    from continuum.testing import WorkflowEnvironment

    flows, models = _load_example()
    env = WorkflowEnvironment(instance="demo")
    run_id = env.start(flows.order_flow, _order(models), id=DEMO_RUN_ID)
    echo("→ the fraud team approves the order (signal 'fraud_review')")
    env.inject_signal(run_id, "fraud_review", "approved")
    echo("→ the cooling-off timer runs on a virtual clock")
    env.advance(seconds(5))
    return env.result(run_id)


def _run_on_postgres(echo: Callable[[str], None], dsn: str | None, timeout: float) -> Any:
    from continuum.client import Client
    from continuum.runtime.worker import Worker

    flows, models = _load_example()
    activities = importlib.import_module("examples.orders.activities")
    acts = [getattr(activities, n) for n in ("charge", "refund", "reserve_stock")]
    acts += [getattr(activities, n) for n in ("release_stock", "ship", "send_email", "bill_cycle")]
    with Client(dsn) as client:
        existing = None
        try:
            existing = client.get_run(DEMO_RUN_ID)
        except Exception:
            existing = None
        worker = Worker(client, workflows=[flows.order_flow], activities=acts, instance="demo")
        with worker:
            run_id = client.start(flows.order_flow, _order(models), id=DEMO_RUN_ID)
            if existing is not None:
                echo(f"→ resuming run {run_id} ({existing.state.value}) from its journal")
            else:
                echo(f"→ started run {run_id}")
            _approve_when_waiting(client, run_id, echo, timeout)
            return client.result(run_id, timeout=timeout)


def _approve_when_waiting(
    client: Any, run_id: str, echo: Callable[[str], None], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get_run(run_id)
        if info.state.terminal:
            return
        events = client.history(run_id)
        if any(e["type"] == "signal_received" for e in events):
            return
        if any(e["type"] == "signal_awaited" for e in events):
            echo("→ the fraud team approves the order (signal 'fraud_review')")
            client.signal(run_id, "fraud_review", "approved")
            return
        threading.Event().wait(0.1)


@click.command("demo")
@click.option("--dsn", default=None, help="PostgreSQL DSN (default: embedded server).")
@click.option("--memory", is_flag=True, help="Run in memory with a virtual clock instead.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the run.")
def demo_command(dsn: str | None, memory: bool, timeout: float) -> None:
    """Run the orders example (saga + signal + timer) and narrate each step."""
    echo = click.echo
    where = "in memory" if memory else "on PostgreSQL (embedded unless --dsn is given)"
    echo(f"Continuum demo: order {DEMO_RUN_ID} {where}")
    handler = _narrate(echo)
    try:
        receipt = _run_in_memory(echo) if memory else _run_on_postgres(echo, dsn, timeout)
    finally:
        telemetry.detach(handler)
    shown = receipt.model_dump_json() if hasattr(receipt, "model_dump_json") else receipt
    echo(f"✓ receipt: {shown}")
    if not memory:
        echo("Run it again: the same run id is reused, so it resumes or shows the finished run.")
