"""``continuum demo``: the orders example, step by step, on the embedded database.

The run has a fixed id, so interrupting the demo (Ctrl-C, a crash, a reboot) and running
it again resumes the same run where its journal left it instead of starting over.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from continuum import telemetry
from continuum.cli.demo_story import ActivityOutput, Narrator
from continuum.definitions.versions import VersionRegistry
from continuum.durations import seconds
from continuum.errors import RunNotFound
from continuum.models import RunInfo

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
    from continuum.examples.orders import flows, models

    return flows, models


def _versions() -> VersionRegistry:
    """The example's own build manifest, shipped inside the package."""
    from continuum.examples import orders

    manifest = Path(orders.__file__).parent / "_continuum" / "manifest.json"
    return VersionRegistry.from_manifest(manifest, modules=(f"{orders.__name__}.flows",))


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
                "continuum.examples.orders.activities:", ""
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
    from continuum.examples.orders import activities
    from continuum.runtime.worker import Worker

    flows, models = _load_example()
    acts = [getattr(activities, n) for n in ("charge", "refund", "reserve_stock")]
    acts += [getattr(activities, n) for n in ("release_stock", "ship", "send_email", "bill_cycle")]
    versions = _versions()
    with Client(dsn, versions=versions) as client:
        try:
            existing: RunInfo | None = client.get_run(DEMO_RUN_ID)
        except RunNotFound:
            existing = None
        if existing is not None and existing.state.terminal:
            echo(f"→ run {DEMO_RUN_ID} already finished ({existing.state.value}); its outcome:")
            return client.result(DEMO_RUN_ID, timeout=timeout)
        output = ActivityOutput()
        narrator = Narrator(echo, output)
        previous, activities.say = activities.say, output.say
        try:
            with Worker(client, workflows=[flows.order_flow], activities=acts, instance="demo"):
                run_id = client.start(flows.order_flow, _order(models), id=DEMO_RUN_ID)
                if existing is not None:
                    past = client.history(run_id)
                    narrator.skip(past)
                    echo(f"→ resuming run {run_id} after step {narrator.seen} of its journal")
                else:
                    echo(f"→ started run {run_id}")
                _follow(client, run_id, narrator, echo, timeout)
                return client.result(run_id, timeout=timeout)
        finally:
            activities.say = previous


def _follow(
    client: Any, run_id: str, narrator: Narrator, echo: Callable[[str], None], timeout: float
) -> None:
    """Tell the journal as it grows; approve the order when the workflow asks."""
    deadline = time.monotonic() + timeout
    approved = False
    while time.monotonic() < deadline:
        terminal = client.get_run(run_id).state.terminal
        events = client.history(run_id)
        narrator.tell(events)
        if terminal:
            return
        types = {e["type"] for e in events}
        if not approved and "signal_awaited" in types and "signal_received" not in types:
            echo("→ the fraud team approves the order (signal 'fraud_review')")
            client.signal(run_id, "fraud_review", "approved")
            approved = True
        threading.Event().wait(0.05)


@click.command("demo")
@click.option("--dsn", default=None, help="PostgreSQL DSN (default: embedded server).")
@click.option("--memory", is_flag=True, help="Run in memory with a virtual clock instead.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for the run.")
def demo_command(dsn: str | None, memory: bool, timeout: float) -> None:
    """Run the orders example (saga + signal + timer) and narrate each step."""
    echo = click.echo
    where = "in memory" if memory else "on PostgreSQL (embedded unless --dsn is given)"
    echo(f"Continuum demo: order {DEMO_RUN_ID} {where}")
    if memory:
        handler = _narrate(echo)
        try:
            receipt = _run_in_memory(echo)
        finally:
            telemetry.detach(handler)
    else:
        receipt = _run_on_postgres(echo, dsn, timeout)
    shown = receipt.model_dump_json() if hasattr(receipt, "model_dump_json") else receipt
    echo(f"✓ receipt: {shown}")
    if not memory:
        echo(
            "Run it again: the run id is fixed, so an interrupted demo resumes from its journal "
            "and a finished one shows its receipt (data in ./.continuum/)."
        )
