"""``continuum lint PATH...``: the scanner without flake8 (for ruff users).

Prints ``path:line:col: CNTnnn message`` (or JSON with ``--format json``), honours
``# noqa``, and exits 1 when any error (CNT1xx) remains; warnings alone exit 0.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from continuum_lint.config import Config, ConfigError, load_config
from continuum_lint.findings import Finding
from continuum_lint.scanner import Scanner, iter_python_files, might_define_checked_code, suppressed


def lint_paths(paths: list[str], config: Config | None = None) -> list[Finding]:
    """Scan every Python file under ``paths`` and return unsuppressed findings."""
    scanners: dict[Config, Scanner] = {}
    results: list[Finding] = []
    for file in iter_python_files(paths):
        try:
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            results.append(Finding(str(file), 1, 0, "CNT100", f"could not read {file}: {exc}"))
            continue
        if not might_define_checked_code(source):
            continue
        effective = config or load_config(file)
        scanner = scanners.setdefault(effective, Scanner(effective))
        try:
            findings = scanner.scan_source(source, str(file))
        except Exception as exc:  # report, never a traceback
            message = f"could not analyse {file}: {type(exc).__name__}: {exc}"
            findings = [Finding(str(file), 1, 0, "CNT100", message)]
        lines = source.splitlines()
        results.extend(f for f in findings if not suppressed(f, lines))
    return results


@click.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=str))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A pyproject.toml to read [tool.continuum] from (default: nearest to each file).",
)
def lint(paths: tuple[str, ...], output_format: str, config_path: Path | None) -> None:
    """Check workflow and @pure code for nondeterminism (CNT1xx errors, CNT2xx warnings)."""
    try:
        config = load_config(config_path) if config_path else None
        findings = lint_paths(list(paths) or ["."], config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if output_format == "json":
        click.echo(json.dumps([f.as_json() for f in findings], indent=2))
    else:
        for finding in findings:
            click.echo(finding.format())
        errors = sum(1 for f in findings if f.severity == "error")
        if findings:
            warnings = len(findings) - errors
            click.echo(f"{errors} error(s), {warnings} warning(s)", err=True)
    if any(f.severity == "error" for f in findings):
        raise SystemExit(1)


def main() -> None:
    """Run ``lint`` as a standalone program (``python -m continuum_lint``)."""
    lint(prog_name="continuum lint")
