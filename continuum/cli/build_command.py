"""``continuum build``: run codegen, print what changed, optionally count open runs.

It lives in the CLI, the one layer that may use both codegen and ``continuum.ops``
(codegen itself never imports the operator queries)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from continuum.errors import ConfigurationError
from continuum_codegen.build import BuildReport, build
from continuum_codegen.errors import CodegenError
from continuum_codegen.render import relative_posix

OldRuns = dict[str, dict[str, int]]


def _text(report: BuildReport, old_runs: OldRuns | None = None) -> list[str]:
    lines: list[str] = []
    for item in report.workflows:
        lines.append(f"{item.name}  {item.hash}  {item.status}  ({item.source}:{item.qualname})")
        if item.effects is not None:
            lines.append(f"  changed since {item.effects.previous}: {item.effects.verdict}")
            lines.extend(f"    {line}" for line in item.effects.lines)
    if old_runs is not None:
        if not old_runs:
            lines.append("open runs on old versions: none")
        for name, versions in old_runs.items():
            total = sum(versions.values())
            where = ", ".join(f"{runs} on {digest}" for digest, runs in versions.items())
            lines.append(f"open runs on old versions of {name}: {total} ({where})")
    lines.extend(f"note: {note}" for note in report.notes)
    if report.check:
        if report.ok:
            lines.append(f"up to date: {len(report.workflows)} workflow(s)")
        else:
            lines.extend(f"stale: {reason}" for reason in report.stale)
            lines.append("run `continuum build` and commit the generated files")
    else:
        lines.extend(f"wrote {relative_posix(p, report.project_root)}" for p in report.written)
        if not report.written:
            lines.append(f"nothing to do: {len(report.workflows)} workflow(s) up to date")
    return lines


@click.command("build")
@click.option(
    "--project",
    "project",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory holding the pyproject.toml with [tool.continuum].",
)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when generated files are stale.")
@click.option(
    "--dsn",
    default=None,
    metavar="DSN",
    help="Also count open runs on each workflow's old versions in this database "
    "(with --check: before deploying a change).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def build_command(project: Path, check: bool, dsn: str | None, output_format: str) -> None:
    """Freeze every workflow version into a V_<hash>.py module and update manifest.json.

    For each workflow whose code changed, says whether its static effect graph changed
    (a safe edit, or one that needs continuum.patched() or a new version).
    """
    try:
        report = build(project, check=check)
    except (CodegenError, ConfigurationError) as exc:  # a broken manifest is the latter
        raise click.ClickException(str(exc)) from None
    old_runs = _old_runs(dsn, report) if dsn is not None else None
    if output_format == "json":
        data = report.to_json()
        if old_runs is not None:
            data["open_runs_on_old_versions"] = old_runs
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        for line in _text(report, old_runs):
            click.echo(line)
    if not report.ok:
        raise SystemExit(1)


def _old_runs(dsn: str, report: BuildReport) -> OldRuns:
    # Imported here: only this option needs a database driver.
    import psycopg

    from continuum.db.config import one_line
    from continuum.errors import ContinuumError
    from continuum.ops.open_runs import open_runs_on_old_versions

    current = {item.name: item.hash for item in report.workflows}
    try:
        return open_runs_on_old_versions(dsn, current)
    except ContinuumError as exc:
        raise click.ClickException(str(exc)) from None
    except psycopg.Error as exc:  # one line, never a traceback
        raise click.ClickException(f"cannot count open runs: {one_line(exc)}") from None
