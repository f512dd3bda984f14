"""Click command for ``continuum build`` (registered into the ``continuum`` group by the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from continuum.errors import ConfigurationError
from continuum_codegen.build import BuildReport, build
from continuum_codegen.errors import CodegenError
from continuum_codegen.render import relative_posix


def _text(report: BuildReport) -> list[str]:
    lines: list[str] = []
    for item in report.workflows:
        lines.append(f"{item.name}  {item.hash}  {item.status}  ({item.source}:{item.qualname})")
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
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
def build_command(project: Path, check: bool, output_format: str) -> None:
    """Freeze every workflow version into a V_<hash>.py module and update manifest.json."""
    try:
        report = build(project, check=check)
    except (CodegenError, ConfigurationError) as exc:  # a broken manifest is the latter
        raise click.ClickException(str(exc)) from None
    if output_format == "json":
        click.echo(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        for line in _text(report):
            click.echo(line)
    if not report.ok:
        raise SystemExit(1)
