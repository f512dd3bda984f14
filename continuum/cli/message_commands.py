"""``continuum runs events`` and ``continuum runs update``: read what a run published,
send it an update and print the reply (SPEC §13)."""

from __future__ import annotations

import json
from typing import Any

import click

from continuum.cli.options import dsn_option, echo_json, errors_as_one_line, format_option
from continuum.client import Client
from continuum.errors import UpdateRejected


def _payload(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"PAYLOAD_JSON is not valid JSON: {exc}") from None


@click.command("events")
@click.argument("run_id")
@click.argument("key", required=False, default=None)
@click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="With KEY: wait up to SECONDS for the run to set it.",
)
@dsn_option
@format_option
def events_command(
    run_id: str, key: str | None, wait_s: float | None, dsn: str | None, fmt: str
) -> None:
    """Show the events a run (its continue_as_new chain) published with set_event."""
    with errors_as_one_line(), Client(dsn) as client:
        if key is not None:
            found = {key: client.get_event(run_id, key, timeout=wait_s or 0.0)}
        else:
            found = client.events(run_id)
    if fmt == "json":
        echo_json({"run_id": run_id, "events": found})
        return
    if not found:
        click.echo(f"run {run_id} has published no events")
    for name, value in found.items():
        click.echo(f"{name}: {json.dumps(value)}")


@click.command("update")
@click.argument("run_id")
@click.argument("name")
@click.argument("payload_json", required=False, default=None, metavar="[PAYLOAD_JSON]")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to wait for the workflow's answer.",
)
@dsn_option
@format_option
def update_command(
    run_id: str, name: str, payload_json: str | None, timeout: float, dsn: str | None, fmt: str
) -> None:
    """Send update NAME (optional JSON payload) to a run and print the workflow's reply."""
    payload = _payload(payload_json)
    with errors_as_one_line(), Client(dsn) as client:
        try:
            reply = client.update(run_id, name, payload, timeout=timeout)
        except UpdateRejected as exc:
            if fmt != "json":
                raise
            echo_json({"run_id": run_id, "update": name, "rejected": exc.reason})
            raise SystemExit(1) from None
    if fmt == "json":
        echo_json({"run_id": run_id, "update": name, "reply": reply})
        return
    click.echo(json.dumps(reply))


SUBCOMMANDS = {"runs": [events_command, update_command]}
"""Commands this module adds to existing groups (``continuum runs ...``)."""
