"""``continuum worker``, ``continuum dev`` and ``continuum runs list|show|cancel|signal``.

Every command that touches the database takes ``--dsn``; without it,
``$CONTINUUM_DATABASE_URL``, else the embedded server. Failures print one line to
stderr and exit non-zero, never a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import click
import psycopg
from rich.console import Console
from rich.table import Table

from continuum.cli.flow_commands import fork_command
from continuum.cli.options import dsn_option, echo_json, errors_as_one_line, format_option
from continuum.cli.purge_command import purge_command
from continuum.cli.worker_boot import wait_for_database, watch_supervisor
from continuum.client import Client
from continuum.db.config import resolve_dsn
from continuum.db.dsn import DATABASE_URL_ENV, describe_dsn, one_line, redact, validate_dsn
from continuum.definitions.activity import Activity
from continuum.definitions.workflow import Workflow
from continuum.errors import ContinuumError, DatabaseUnavailable
from continuum.runtime.supervisor import EXIT_FATAL, Supervisor, SupervisorPolicy
from continuum.runtime.worker import Worker


# -- loading user modules ---------------------------------------------------------------
def load_module(spec: str) -> ModuleType:
    """Import ``spec``: a dotted module name (from the current directory) or a ``.py`` path."""
    if spec.endswith(".py") or "/" in spec:
        path = Path(spec).resolve()
        if not path.is_file():
            raise click.ClickException(f"no such file: {spec}")
        sys.path.insert(0, str(path.parent))
        name = path.stem
        mod_spec = importlib.util.spec_from_file_location(name, path)
        if mod_spec is None or mod_spec.loader is None:
            raise click.ClickException(f"cannot import {spec}")
        module = importlib.util.module_from_spec(mod_spec)
        sys.modules[name] = module
        mod_spec.loader.exec_module(module)
        return module
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(spec)
    except ImportError as exc:
        raise click.ClickException(f"cannot import module {spec!r}: {one_line(exc)}") from None


def definitions_of(
    modules: list[ModuleType],
) -> tuple[list[Workflow[Any, Any]], list[Activity[..., Any]]]:
    """Every workflow and activity object defined at the top level of ``modules``."""
    flows: dict[str, Workflow[Any, Any]] = {}
    acts: dict[str, Activity[..., Any]] = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Workflow):
                flows[value.name] = value
            elif isinstance(value, Activity):
                acts[value.name] = value
    return list(flows.values()), list(acts.values())


def _run_worker(
    modules: tuple[str, ...],
    dsn: str | None,
    instance: str,
    max_runs: int,
    max_activities: int,
    activity_executor: str | tuple[str, dict[str, Any]] = "builtin",
    supervisor_pid: int | None = None,
) -> None:
    stopping = threading.Event()
    running: list[Worker] = []

    def stop(signum: int = signal.SIGTERM, frame: FrameType | None = None) -> None:
        stopping.set()
        for worker in running:
            worker.request_stop()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if supervisor_pid is not None:
        watch_supervisor(supervisor_pid, stop)
    with _boot_errors(supervised=supervisor_pid is not None):
        loaded = [load_module(m) for m in modules]
        flows, acts = definitions_of(loaded)
        if not wait_for_database(resolve_dsn(dsn), stopping=stopping, say=_say):
            click.echo("worker stopped before it could connect", err=True)
            return
    with errors_as_one_line(), Client(dsn, instance=instance) as client:
        worker = Worker(
            client,
            workflows=flows,
            activities=acts,
            max_runs=max_runs,
            max_activities=max_activities,
            activity_executor=activity_executor,
        )
        running.append(worker)
        if stopping.is_set():
            worker.request_stop()
        with _boot_errors(supervised=supervisor_pid is not None):
            worker.start()
        click.echo(
            f"worker {worker.id} on {describe_dsn(client.dsn)}: "
            f"{len(flows)} workflow(s), {len(acts)} activit{'y' if len(acts) == 1 else 'ies'}; "
            "Ctrl-C to stop",
            err=True,
        )
        worker.run()
    click.echo("worker stopped", err=True)


def _say(text: str) -> None:
    click.echo(text, err=True)


@contextmanager
def _boot_errors(*, supervised: bool) -> Iterator[None]:
    """Errors while a worker boots, as one line. Under a supervisor, an error a restart
    cannot fix (a module that does not import, a refused login, a missing schema) exits
    with ``EXIT_FATAL`` so that the supervisor stops instead of restarting in a loop; a
    database that went away again while booting exits 1, and a restart may well help."""
    try:
        yield
    except (DatabaseUnavailable, psycopg.OperationalError) as exc:
        raise click.ClickException(redact(one_line(exc))) from None
    except ContinuumError as exc:
        raise _fatal(redact(one_line(exc)), supervised) from None
    except psycopg.Error as exc:
        raise _fatal(f"database error: {redact(one_line(exc))}", supervised) from None
    except click.ClickException as exc:
        raise _fatal(exc.message, supervised) from None


class _FatalBootError(click.ClickException):
    exit_code = EXIT_FATAL


def _fatal(message: str, supervised: bool) -> click.ClickException:
    return _FatalBootError(message) if supervised else click.ClickException(message)


def _supervise(
    processes: int,
    modules: tuple[str, ...],
    dsn: str | None,
    child_options: list[str],
) -> None:
    """Run ``processes`` supervised copies of this worker command (see runtime.supervisor)."""
    env = dict(os.environ)
    with errors_as_one_line():
        if dsn:
            validate_dsn(dsn)
            env[DATABASE_URL_ENV] = dsn  # not on the command line, where `ps` shows it
        elif not env.get(DATABASE_URL_ENV, "").strip():
            resolve_dsn(None)  # start the embedded server once, not once per child
    command = [
        sys.executable,
        "-m",
        "continuum.cli",
        "worker",
        *modules,
        *child_options,
        "--supervisor-pid",
        str(os.getpid()),
    ]
    supervisor = Supervisor(command, SupervisorPolicy(processes=processes), env=env, say=_say)
    with errors_as_one_line():
        code = supervisor.run()
    if code != 0:
        raise click.exceptions.Exit(code)


@click.command("worker")
@click.argument("modules", nargs=-1, required=True, metavar="MODULE...")
@dsn_option
@click.option("--instance", default="default", show_default=True, help="Instance name.")
@click.option("--max-runs", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--max-activities", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--activity-executor",
    type=click.Choice(["builtin", "procrastinate"]),
    default="builtin",
    show_default=True,
    help="Run activities here, or defer them to procrastinate workers (continuum_app).",
)
@click.option(
    "--procrastinate-queue",
    default="continuum_activities",
    show_default=True,
    help="The procrastinate queue activity attempts are deferred to.",
)
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    metavar="N",
    default=1,
    show_default=True,
    help="Run N worker processes under a supervisor that restarts any that die "
    "(--max-runs/--max-activities are per process).",
)
@click.option("--supervisor-pid", type=int, default=None, hidden=True)
def worker_command(
    modules: tuple[str, ...],
    dsn: str | None,
    instance: str,
    max_runs: int,
    max_activities: int,
    activity_executor: str,
    procrastinate_queue: str,
    processes: int,
    supervisor_pid: int | None,
) -> None:
    """Run a worker for the workflows and activities defined in MODULE... until SIGINT/SIGTERM."""
    if processes > 1:
        child_options = [
            f"--instance={instance}",
            f"--max-runs={max_runs}",
            f"--max-activities={max_activities}",
            f"--activity-executor={activity_executor}",
            f"--procrastinate-queue={procrastinate_queue}",
        ]
        _supervise(processes, modules, dsn, child_options)
        return
    executor: str | tuple[str, dict[str, Any]] = (
        ("procrastinate", {"queue": procrastinate_queue})
        if activity_executor == "procrastinate"
        else "builtin"
    )
    _run_worker(modules, dsn, instance, max_runs, max_activities, executor, supervisor_pid)


# -- runs -----------------------------------------------------------------------------
@click.group("runs")
def runs_group() -> None:
    """List, inspect, cancel and signal runs."""


def _attribute_filter(text: str) -> tuple[str, tuple[str, str], Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise click.BadParameter(f"{text!r} is not KEY=VALUE", param_hint="--attr")
    try:  # numbers, booleans and quoted strings as JSON; anything else is a string
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return ("eq", ("attributes", key), value)


@runs_group.command("list")
@click.option("--namespace", default="default", show_default=True)
@click.option("--workflow", default=None, help="Only runs of this workflow name.")
@click.option(
    "--state",
    type=click.Choice(["queued", "running", "suspended", "completed", "failed", "cancelled"]),
    default=None,
)
@click.option(
    "--attr",
    "attrs",
    multiple=True,
    metavar="KEY=VALUE",
    help="Only runs whose attribute KEY equals VALUE (repeatable; VALUE is JSON if it parses).",
)
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--cursor", default=None, help="Continue after a previous page's next_cursor.")
@dsn_option
@format_option
def list_command(
    namespace: str,
    workflow: str | None,
    state: str | None,
    attrs: tuple[str, ...],
    limit: int,
    cursor: str | None,
    dsn: str | None,
    fmt: str,
) -> None:
    """List runs, newest first, filtered like Client.query."""
    where: list[Any] = [_attribute_filter(a) for a in attrs]
    if state:
        where.append(("eq", "state", state))
    if workflow:
        where.append(("eq", "workflow", workflow))
    with errors_as_one_line(), Client(dsn, namespace=namespace) as client:
        page = client.query(namespace, where=where, limit=limit, after=cursor)
    if fmt == "json":
        echo_json(
            {
                "runs": [r.model_dump(mode="json") for r in page.runs],
                "next_cursor": page.next_cursor,
            }
        )
        return
    table = Table("id", "workflow", "state", "started", "finished")
    for r in page.runs:
        table.add_row(
            r.id,
            r.workflow,
            r.state.value,
            r.started_at.isoformat(timespec="seconds") if r.started_at else "-",
            r.finished_at.isoformat(timespec="seconds") if r.finished_at else "-",
        )
    Console(width=None if sys.stdout.isatty() else 200).print(table)
    if page.next_cursor:
        click.echo(f"more: --cursor {page.next_cursor}")


@runs_group.command("show")
@click.argument("run_id")
@dsn_option
@format_option
def show_command(run_id: str, dsn: str | None, fmt: str) -> None:
    """Show one run and its journal."""
    with errors_as_one_line(), Client(dsn) as client:
        info = client.get_run(run_id)
        events = client.history(run_id)
    if fmt == "json":
        echo_json({**info.model_dump(mode="json"), "events": events})
        return
    for key, value in info.model_dump(mode="json").items():
        if value not in (None, {}, ""):
            click.echo(f"{key}: {json.dumps(value) if isinstance(value, dict | list) else value}")
    click.echo("events:")
    for ev in events:
        ref = f" -> {ev['ref_seq']}" if "ref_seq" in ev else ""
        target = ev.get("command", {}).get("target", "") if ev.get("command") else ""
        click.echo(f"  {ev['seq']:>4} {ev['type']}{ref} {target}".rstrip())


@runs_group.command("cancel")
@click.argument("run_id")
@click.option(
    "--grace",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Cancel cooperatively: the run gets continuum.Cancelled at its next wait and "
    "SECONDS to clean up before it is cancelled outright (default: cancel at once).",
)
@dsn_option
def cancel_command(run_id: str, grace: float | None, dsn: str | None) -> None:
    """Cancel a run (its chain's live tip) and its descendants."""
    with errors_as_one_line(), Client(dsn) as client:
        info = client.cancel(run_id, grace=grace)
    if grace is None or info.state.value == "cancelled":
        click.echo(f"run {info.id} is {info.state.value}")
    else:
        click.echo(
            f"run {info.id} is {info.state.value}: cancel requested; it has {grace:g}s to "
            "clean up before it is cancelled outright"
        )


@runs_group.command("signal")
@click.argument("run_id")
@click.argument("name")
@click.argument("payload_json", required=False, default=None, metavar="[PAYLOAD_JSON]")
@dsn_option
def signal_command(run_id: str, name: str, payload_json: str | None, dsn: str | None) -> None:
    """Send signal NAME to a run, with an optional JSON payload."""
    payload: Any = None
    if payload_json is not None:
        try:
            payload = json.loads(payload_json)
        except json.JSONDecodeError as exc:
            raise click.ClickException(f"PAYLOAD_JSON is not valid JSON: {exc}") from None
    with errors_as_one_line(), Client(dsn) as client:
        client.signal(run_id, name, payload)
    click.echo(f"signal {name!r} sent to {run_id}")


runs_group.add_command(fork_command)
runs_group.add_command(purge_command)

__all__ = ["runs_group", "worker_command"]
