"""``continuum schedules ...``, ``continuum queues list`` and ``continuum runs fork``."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from continuum.cli.options import dsn_option, echo_json, errors_as_one_line, format_option
from continuum.client import Client
from continuum.models import QueueInfo, ScheduleInfo


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 200)


def _when(value: Any) -> str:
    return "-" if value is None else value.isoformat(timespec="seconds")


def _rule(s: ScheduleInfo) -> str:
    if s.cron is not None:
        return f"cron {s.cron} ({s.timezone})"
    assert s.every is not None
    return f"every {int(s.every.total_seconds())}s"


@click.group("schedules")
def schedules_group() -> None:
    """List, pause, resume, trigger and delete schedules."""


@schedules_group.command("list")
@dsn_option
@format_option
def schedules_list(dsn: str | None, fmt: str) -> None:
    """List every schedule with its next fire time and last run."""
    with errors_as_one_line(), Client(dsn) as client:
        found = client.schedules()
    if fmt == "json":
        echo_json({"schedules": [s.model_dump(mode="json") for s in found]})
        return
    table = Table("id", "workflow", "rule", "overlap", "paused", "next fire", "last run")
    for s in found:
        table.add_row(
            s.id,
            s.workflow,
            _rule(s),
            s.overlap,
            "yes" if s.paused else "no",
            _when(s.next_fire_at),
            s.last_run_id or "-",
        )
    _console().print(table)


def _one(action: str, schedule_id: str, dsn: str | None, fmt: str) -> None:
    with errors_as_one_line(), Client(dsn) as client:
        if action == "pause":
            info: Any = client.pause_schedule(schedule_id)
        elif action == "resume":
            info = client.resume_schedule(schedule_id)
        elif action == "trigger":
            info = {"id": schedule_id, "run_id": client.trigger_schedule(schedule_id)}
        else:
            client.unschedule(schedule_id)
            info = {"id": schedule_id, "deleted": True}
    if fmt == "json":
        echo_json(info.model_dump(mode="json") if isinstance(info, ScheduleInfo) else info)
    elif action == "trigger":
        click.echo(f"schedule {schedule_id} started run {info['run_id']}")
    else:
        done = {"pause": "paused", "resume": "resumed", "delete": "deleted"}[action]
        click.echo(f"schedule {schedule_id} {done}")


def _schedule_command(action: str, help_text: str) -> click.Command:
    @click.argument("schedule_id")
    @dsn_option
    @format_option
    def command(schedule_id: str, dsn: str | None, fmt: str) -> None:
        _one(action, schedule_id, dsn, fmt)

    command.__doc__ = help_text
    return click.command(action)(command)


for _action, _help in (
    ("pause", "Stop firing a schedule until it is resumed."),
    ("resume", "Fire a paused schedule again, from its next tick."),
    ("trigger", "Start a schedule's run now."),
    ("delete", "Delete a schedule (its runs are kept)."),
):
    schedules_group.add_command(_schedule_command(_action, _help))


@click.group("queues")
def queues_group() -> None:
    """Inspect queues."""


def _rate(q: QueueInfo) -> str:
    if q.rate_limit is None:
        return "-"
    count, per = q.rate_limit
    return f"{count}/{int(per.total_seconds())}s"


@queues_group.command("list")
@dsn_option
@format_option
def queues_list(dsn: str | None, fmt: str) -> None:
    """List queues with their limits and running/queued counts."""
    with errors_as_one_line(), Client(dsn) as client:
        found = client.queues()
    if fmt == "json":
        echo_json({"queues": [q.model_dump(mode="json") for q in found]})
        return
    table = Table("queue", "concurrency", "rate limit", "running", "queued")
    for q in found:
        table.add_row(
            q.name,
            "-" if q.concurrency is None else str(q.concurrency),
            _rate(q),
            str(q.running),
            str(q.queued),
        )
    _console().print(table)


@click.command("fork")
@click.argument("run_id")
@click.option("--at-seq", type=int, default=None, help="Copy events up to this seq (default: all).")
@click.option("--id", "new_id", default=None, help="Id of the new run (default: generated).")
@dsn_option
@format_option
def fork_command(
    run_id: str, at_seq: int | None, new_id: str | None, dsn: str | None, fmt: str
) -> None:
    """Start a new run from a copy of RUN_ID's journal (up to --at-seq)."""
    with errors_as_one_line(), Client(dsn) as client:
        forked = client.fork(run_id, at_seq=at_seq, id=new_id)
    if fmt == "json":
        echo_json({"run_id": forked, "forked_from_run_id": run_id, "at_seq": at_seq})
        return
    click.echo(f"forked {run_id} as {forked}")


__all__ = ["fork_command", "queues_group", "schedules_group"]
