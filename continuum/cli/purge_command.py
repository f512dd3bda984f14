"""``continuum runs purge``: delete finished runs whose retention has passed."""

from __future__ import annotations

from typing import Any

import click

from continuum.cli.options import dsn_option, echo_json, errors_as_one_line, format_option
from continuum.cli.progress import progress_bar
from continuum.db.config import resolve_dsn
from continuum.db.connection import connect
from continuum.db.migrate import require_current_schema
from continuum.ops.purge import PurgeReport, purge_expired_runs


def _print(report: PurgeReport) -> None:
    if report.executed:
        counts = ", ".join(f"{n} {table}" for table, n in report.deleted.items())
        click.echo(f"deleted {counts}")
        return
    for run in report.sample:
        click.echo(
            f"would delete {run.id} ({run.workflow}, {run.state}, retention until "
            f"{run.retention_until:%Y-%m-%d %H:%M}, {run.events} events)"
        )
    click.echo(f"{report.candidates} run(s) past retention; dry run: pass --execute to delete")


@click.command("purge")
@click.option("--execute", is_flag=True, help="Delete (default: only report what would go).")
@dsn_option
@format_option
def purge_command(execute: bool, dsn: str | None, fmt: str) -> None:
    """Delete finished runs past their retention_until (dry run by default)."""
    with errors_as_one_line():
        conn: Any
        with (
            connect(resolve_dsn(dsn), autocommit=True, application_name="continuum-cli") as conn,
            progress_bar(fmt) as progress,
        ):
            require_current_schema(conn)
            report = purge_expired_runs(conn, execute=execute, progress=progress)
    if fmt == "json":
        echo_json(report.to_json())
    else:
        _print(report)
