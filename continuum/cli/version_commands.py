"""``continuum audit``, ``gc-versions``, ``replay`` and ``archive-continued-chains``.

Every command that touches the database takes ``--dsn`` (else
``$CONTINUUM_DATABASE_URL``, else the embedded server) and ``--format json`` for
machines. Problems print one line on stderr with a non-zero exit, never a traceback.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
import psycopg
from rich.console import Console
from rich.table import Table

from continuum.cli.options import dsn_option, echo_json, errors_as_one_line, format_option
from continuum.cli.progress import progress_bar
from continuum.db.config import resolve_dsn
from continuum.db.connection import connect
from continuum.db.dsn import one_line
from continuum.db.migrate import require_current_schema
from continuum.definitions.manifest import MANIFEST_NAME
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.errors import ReplayDriftError
from continuum.ops.archive import ArchiveReport, archive_continued_chains
from continuum.ops.audit import AuditReport, audit
from continuum.ops.compat import CompatResult, iter_check_against_current
from continuum.ops.gc import GcReport, gc_project_versions
from continuum_pyproject import PyprojectError, find

F = TypeVar("F", bound=Callable[..., Any])

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def _project_option(fn: F) -> F:
    return click.option(
        "--project",
        type=click.Path(file_okay=False, path_type=Path),
        default=Path("."),
        show_default=True,
        help="Directory of (or below) the pyproject.toml with [tool.continuum].",
    )(fn)


@contextmanager
def _connection(dsn: str | None) -> Iterator[psycopg.Connection[Any]]:
    with connect(resolve_dsn(dsn), autocommit=True, application_name="continuum-cli") as conn:
        require_current_schema(conn)
        yield conn


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 200, highlight=False)


def find_project_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` whose pyproject has ``[tool.continuum]``."""
    try:
        table = find(start)
    except PyprojectError as exc:
        raise click.ClickException(str(exc)) from None
    return None if table is None else table.root


def load_registry(project_root: Path | None) -> VersionRegistry:
    """The project's :class:`VersionRegistry`, with its import roots on ``sys.path``."""
    if project_root is None:
        return VersionRegistry()
    # Frozen modules import the project's own packages, as a worker started there would.
    for root in (project_root / "src", project_root):
        if root.is_dir() and str(root) not in sys.path:
            sys.path.insert(0, str(root))
    from continuum_codegen.config import load_config

    manifest = load_config(project_root).generated / MANIFEST_NAME
    return VersionRegistry.from_manifest(manifest) if manifest.is_file() else VersionRegistry()


def parse_age(text: str) -> timedelta:
    """``"30d"`` → 30 days; units ``s m h d w``."""
    match = _DURATION.match(text)
    if match is None:
        raise click.BadParameter(f"{text!r} is not a duration like 30d, 12h or 90m")
    return timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


# -- audit ---------------------------------------------------------------------------
def _print_audit(report: AuditReport) -> None:
    console = _console()
    console.print(f"manifest: {report.manifest or '(none: project not built)'}")
    versions = Table(title="workflow versions")
    for column in ("workflow", "hash", "current", "manifest", "loadable", "open runs", "workers"):
        versions.add_column(column)
    for v in report.versions:
        versions.add_row(
            v.workflow,
            v.version_hash,
            "yes" if v.current else "",
            "yes" if v.in_manifest else "",
            "yes" if v.loadable else "NO",
            str(v.open_runs),
            str(v.live_workers),
        )
    console.print(versions)
    console.print(f"live workers: {len(report.live_workers)}")
    for site in report.patch_sites:
        where = f"{site.function}:{site.line}" if site.line else site.function
        if site.verdict == "safe_to_remove":
            console.print(f"patched({site.patch_id!r}) at {where}: safe to remove")
        else:
            console.print(
                f"patched({site.patch_id!r}) at {where}: in use by "
                f"{site.predating_runs} open run(s) that predate it"
            )
    for group in report.unloadable_runs:
        console.print(
            f"unloadable: {group.runs} open run(s) of {group.workflow}@{group.version_hash} "
            f"(e.g. {', '.join(group.sample_run_ids[:3])}); deploy that version or cancel them"
        )
    for task in report.expired_leased_tasks:
        console.print(
            f"expired lease: task {task.id} ({task.activity}, run {task.run_id}) "
            f"expired {task.expired_for_s:.0f}s ago, owner {task.lease_owner}"
        )
    console.print("ok" if report.ok else f"{len(report.strict_problems)} problem(s)")


@click.command("audit")
@dsn_option
@_project_option
@format_option
@click.option(
    "--strict",
    is_flag=True,
    help="Exit 1 on safe-to-remove patch sites, unloadable runs or expired task leases.",
)
def audit_command(dsn: str | None, project: Path, fmt: str, strict: bool) -> None:
    """Report versions, stale patched() sites, stranded runs and expired task leases."""
    with errors_as_one_line():
        root = find_project_root(project)
        registry = load_registry(root)
        with _connection(dsn) as conn:
            report = audit(conn, registry, project_root=root)
    if fmt == "json":
        echo_json(report.to_json())
    else:
        _print_audit(report)
    if strict and not report.ok:
        for problem in report.strict_problems:
            click.echo(f"strict: {problem}", err=True)
        click.get_current_context().exit(1)


# -- gc-versions ---------------------------------------------------------------------
def _print_gc(report: GcReport) -> None:
    verb = "deleted" if report.executed else "would delete"
    db = report.database
    for ref in db.kept:
        click.echo(f"keep  {ref.workflow}@{ref.version_hash} ({ref.reason})")
    removed = db.deleted if report.executed else db.removable
    for ref in removed:
        click.echo(f"{verb} row {ref.workflow}@{ref.version_hash}")
    if report.files is not None:
        for ref in report.files.kept_pinned:
            click.echo(f"keep  file of {ref.workflow}@{ref.version_hash} (pinned)")
        for ref in report.files.removable:
            click.echo(f"{verb} manifest entry {ref.workflow}@{ref.version_hash}")
        for path in report.files.deleted_files:
            click.echo(f"deleted {path}")
    if not report.executed and (db.removable or (report.files and report.files.removable)):
        click.echo("dry run: pass --execute to delete")


@click.command("gc-versions")
@dsn_option
@_project_option
@click.option("--execute", is_flag=True, help="Delete (default: only report what would go).")
@format_option
def gc_versions_command(dsn: str | None, project: Path, execute: bool, fmt: str) -> None:
    """Remove versions no open run, live worker or current build needs (dry run by default)."""
    with errors_as_one_line():
        root = find_project_root(project)
        if root is None:
            raise click.ClickException(
                f"no pyproject.toml with [tool.continuum] at or above {project}; pass --project"
            )
        registry = load_registry(root)
        with _connection(dsn) as conn, progress_bar(fmt) as progress:
            report = gc_project_versions(
                conn, registry, project_root=root, execute=execute, progress=progress
            )
    if fmt == "json":
        echo_json(report.to_json())
    else:
        _print_gc(report)


# -- replay --------------------------------------------------------------------------
def _import_workflow(target: str) -> Workflow[Any, Any]:
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise click.BadParameter(f"{target!r}: expected module:attribute", param_hint="--workflow")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise click.ClickException(f"cannot import {target}: {one_line(exc)}") from None
    if not isinstance(obj, Workflow):
        raise click.ClickException(f"{target} is not a @continuum.workflow")
    return obj


def _replay_file(history: Path, target: str, fmt: str) -> None:
    from continuum.engine.replay import replay

    flow = _import_workflow(target)
    try:
        outcome = replay(flow, history)
    except ReplayDriftError as exc:
        if fmt == "json":
            echo_json({"ok": False, "status": "drift", "message": str(exc)})
        else:
            click.echo(f"drift: {one_line(exc)}")
        click.get_current_context().exit(1)
    except (ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{history}: not a history file ({one_line(exc)})") from None
    if fmt == "json":
        echo_json({"ok": True, "status": "ok", "state": outcome.state})
    else:
        click.echo(f"ok: replays to {outcome.state}")


def _check_current(dsn: str | None, project: Path, workflow: str | None, fmt: str) -> None:
    root = find_project_root(project)
    registry = load_registry(root)
    if not registry.built:
        raise click.ClickException(
            "no build manifest found; run `continuum build` (or pass --project)"
        )
    results: list[CompatResult] = []
    with _connection(dsn) as conn:
        for result in iter_check_against_current(conn, registry, workflow=workflow):
            results.append(result)
            if fmt == "text":
                line = f"{result.status:<10} {result.run_id} ({result.workflow}@"
                line += f"{result.run_version_hash} -> {result.current_hash})"
                click.echo(line + (f": {one_line_text(result.message)}" if result.message else ""))
    incompatible = [r for r in results if not r.compatible]
    if fmt == "json":
        echo_json(
            {
                "ok": not incompatible,
                "checked": len(results),
                "incompatible": len(incompatible),
                "runs": [r.model_dump(mode="json") for r in results],
            }
        )
    else:
        click.echo(f"{len(results)} open run(s) checked, {len(incompatible)} incompatible")
    if incompatible:
        click.get_current_context().exit(1)


def one_line_text(text: str) -> str:
    """``text`` collapsed to one line."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


@click.command("replay")
@click.option(
    "--against-current",
    is_flag=True,
    help="Replay every open run against the current built version of its workflow.",
)
@click.option(
    "--history",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A JSON history file (Client.history / runs show --format json) to replay.",
)
@click.option(
    "--workflow",
    default=None,
    help="With --against-current: a logical workflow name to limit to. "
    "With --history: the workflow to replay, as module:attribute.",
)
@dsn_option
@_project_option
@format_option
def replay_command(
    against_current: bool,
    history: Path | None,
    workflow: str | None,
    dsn: str | None,
    project: Path,
    fmt: str,
) -> None:
    """Check histories against code: exit 1 when a run would drift."""
    if against_current == (history is not None):
        raise click.UsageError("pass exactly one of --against-current or --history FILE")
    with errors_as_one_line():
        if history is not None:
            if workflow is None:
                raise click.UsageError("--history needs --workflow module:attribute")
            _replay_file(history, workflow, fmt)
        else:
            _check_current(dsn, project, workflow, fmt)


# -- archive-continued-chains --------------------------------------------------------
def _print_archive(report: ArchiveReport) -> None:
    if report.executed:
        counts = ", ".join(f"{n} {table}" for table, n in report.deleted.items())
        click.echo(f"deleted {counts or 'nothing'}")
        return
    for member in report.sample:
        click.echo(
            f"would delete {member.id} ({member.workflow}, chain {member.correlation_id}, "
            f"finished {member.finished_at:%Y-%m-%d %H:%M}, {member.events} events)"
        )
    click.echo(f"{report.candidates} expired non-tail run(s); dry run: pass --execute to delete")


@click.command("archive-continued-chains")
@click.option("--older-than", required=True, help="Age of finished members to delete, e.g. 30d.")
@click.option("--execute", is_flag=True, help="Delete (default: only report what would go).")
@dsn_option
@format_option
def archive_command(older_than: str, execute: bool, dsn: str | None, fmt: str) -> None:
    """Delete expired non-tail runs of continue_as_new chains (dry run by default)."""
    age = parse_age(older_than)
    with errors_as_one_line(), _connection(dsn) as conn, progress_bar(fmt) as progress:
        report = archive_continued_chains(conn, older_than=age, execute=execute, progress=progress)
    if fmt == "json":
        echo_json(report.to_json())
    else:
        _print_archive(report)
