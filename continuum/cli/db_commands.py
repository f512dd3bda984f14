"""``continuum migrate`` and ``continuum partitions create|list|drop-old``.

Every command takes ``--dsn``; without it, ``$CONTINUUM_DATABASE_URL``, else the embedded
server. Failures print one line to stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table

from continuum.cli.options import (
    dsn_option,
    echo_json,
    errors_as_one_line,
    format_option,
    schema_connection,
)
from continuum.cli.progress import progress_bar
from continuum.db.config import resolve_dsn
from continuum.db.migrate import migrate
from continuum.db.partitions import (
    create_partition,
    drop_old,
    ensure_partitions,
    list_partitions,
    parse_month,
    partition_name,
)


@click.command("migrate")
@dsn_option
@click.option("--dry-run", is_flag=True, help="Print the SQL that would run; change nothing.")
@format_option
def migrate_command(dsn: str | None, dry_run: bool, fmt: str) -> None:
    """Apply pending schema migrations and create upcoming event partitions."""
    with errors_as_one_line(), progress_bar(fmt) as progress:
        report = migrate(resolve_dsn(dsn), dry_run=dry_run, progress=progress)
    if fmt == "json":
        echo_json(report.model_dump(mode="json"))
        return
    if dry_run:
        click.echo(f"-- dry run against {report.database}; nothing was changed")
        click.echo(report.sql or "-- nothing to do: schema and partitions are up to date")
        return
    for migration_id in report.changed:
        click.echo(
            f"warning: migration {migration_id} changed since it was applied "
            "(its checksum differs); the database keeps the old version",
            err=True,
        )
    if report.up_to_date:
        click.echo(f"schema up to date ({report.database})")
        return
    for migration_id in report.applied:
        click.echo(f"applied {migration_id}")
    for name in report.partitions_created:
        click.echo(f"created partition {name}")


@click.group("partitions")
def partitions_group() -> None:
    """Maintain the monthly partitions of continuum_events."""


@partitions_group.command("create")
@click.argument("month", required=False, metavar="[YYYY-MM]")
@click.option(
    "--ahead",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Without MONTH: also create this many months after the current one.",
)
@dsn_option
@format_option
def create_command(month: str | None, ahead: int, dsn: str | None, fmt: str) -> None:
    """Create the partition for MONTH (default: the current month and --ahead more).

    Idempotent: existing partitions are left alone.
    """
    with errors_as_one_line():
        first = parse_month(month) if month is not None else None
        with schema_connection(dsn) as conn:
            if first is not None:
                created = [partition_name(first)] if create_partition(conn, first) else []
                existing = [] if created else [partition_name(first)]
            else:
                created = ensure_partitions(conn, months_ahead=ahead)
                existing = []
    if fmt == "json":
        echo_json({"created": created, "already_existed": existing})
        return
    for name in created:
        click.echo(f"created partition {name}")
    for name in existing:
        click.echo(f"partition {name} already exists")
    if not created and not existing:
        click.echo("all partitions already exist")


@partitions_group.command("list")
@click.option(
    "--estimate", is_flag=True, help="Report planner row estimates instead of counting rows."
)
@dsn_option
@format_option
def list_command(estimate: bool, dsn: str | None, fmt: str) -> None:
    """List the partitions of continuum_events with their ranges and row counts."""
    with errors_as_one_line(), schema_connection(dsn) as conn:
        partitions = list_partitions(conn, count_rows=not estimate)
    if fmt == "json":
        echo_json([p.to_json() for p in partitions])
        return
    table = Table("partition", "month", "from (UTC)", "to (UTC)", "rows")
    for p in partitions:
        table.add_row(
            p.name,
            p.month or "-",
            p.range_start.isoformat() if p.range_start else "-",
            p.range_end.isoformat() if p.range_end else "-",
            f"~{p.rows}" if p.rows_estimated else str(p.rows),
        )
    # Off a terminal, rich would squeeze the table into 80 columns and elide the names.
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@partitions_group.command("drop-old")
@click.option("--execute", is_flag=True, help="Drop the eligible partitions (default: report).")
@dsn_option
@format_option
def drop_old_command(execute: bool, dsn: str | None, fmt: str) -> None:
    """Report partitions every run in which is past its retention_until; drop with --execute.

    A no-op when no run has retention_until set.
    """
    with errors_as_one_line(), schema_connection(dsn) as conn, progress_bar(fmt) as progress:
        report = drop_old(conn, execute=execute, progress=progress)
    if fmt == "json":
        echo_json(report.to_json())
        return
    if not report.retention_configured:
        click.echo("no run has retention_until set; nothing to drop")
        return
    if not report.eligible:
        click.echo("no partition is past retention")
        return
    verb = "dropped" if execute else "would drop"
    for p in report.eligible:
        if not execute or p.name in report.dropped:
            click.echo(f"{verb} {p.name} ({p.rows} rows)")
    if not execute:
        click.echo("run again with --execute to drop them")
