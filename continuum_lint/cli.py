"""``continuum lint PATH...``: the scanner without flake8 (for ruff users).

Prints ``path:line:col: CNTnnn message`` (or JSON with ``--format json``), honours
``# noqa``, and exits 1 when any error (CNT1xx) remains; warnings alone exit 0.
``--fix`` rewrites the findings that have a safe fix (:mod:`continuum_lint.fix`) and
reports the rest; ``--diff`` prints that rewrite as a unified diff and writes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from continuum_lint.config import Config, ConfigError, load_config
from continuum_lint.findings import Finding
from continuum_lint.scanner import Scanner, iter_python_files, might_define_checked_code, suppressed

if TYPE_CHECKING:
    from continuum_lint.fix.files import FileFix


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


def fix_paths(paths: list[str], config: Config | None = None) -> list[FileFix]:
    """Fix every Python file under ``paths`` in memory (nothing is written).

    A file that cannot be read is reported as CNT100 and left alone.
    """
    # Imported here: libcst's codemod machinery costs ~0.2 s that plain linting never needs.
    from continuum_lint.fix.files import FileFix, fix_file

    results: list[FileFix] = []
    for file in iter_python_files(paths):
        try:
            results.append(fix_file(file, config or load_config(file)))
        except (OSError, UnicodeDecodeError) as exc:
            unreadable = Finding(str(file), 1, 0, "CNT100", f"could not read {file}: {exc}")
            results.append(FileFix(str(file), "", "", (unreadable,), (), (unreadable,)))
    return results


def _summarize_fixes(fixes: list[FileFix], written: bool) -> None:
    fixed = sum(len(f.fixed) for f in fixes)
    files = sum(1 for f in fixes if f.changed)
    verb = "fixed" if written else "would fix"
    click.echo(f"{verb} {fixed} finding(s) in {files} file(s)", err=True)


def _echo_findings(findings: list[Finding], output_format: str, err: bool = False) -> None:
    if output_format == "json":
        click.echo(json.dumps([f.as_json() for f in findings], indent=2), err=err)
        return
    for finding in findings:
        click.echo(finding.format(), err=err)
    if findings:
        errors = sum(1 for f in findings if f.severity == "error")
        warnings = len(findings) - errors
        click.echo(f"{errors} error(s), {warnings} warning(s)", err=True)


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
@click.option(
    "--fix",
    is_flag=True,
    help="Rewrite findings that have a safe fix in place, then report the rest.",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print the --fix rewrite as a unified diff instead of writing it.",
)
def lint(
    paths: tuple[str, ...],
    output_format: str,
    config_path: Path | None,
    fix: bool,
    show_diff: bool,
) -> None:
    """Check workflow and @pure code for nondeterminism (CNT1xx errors, CNT2xx warnings).

    With --fix or --diff the exit status follows the findings left after the fix.
    """
    if fix and show_diff:
        raise click.UsageError("use --fix to rewrite files or --diff to preview, not both")
    if show_diff and output_format == "json":
        raise click.UsageError("--diff prints a diff; it does not combine with --format json")
    try:
        config = load_config(config_path) if config_path else None
        if fix or show_diff:
            fixes = fix_paths(list(paths) or ["."], config)
            # --diff writes nothing, so its findings keep their places in the files as they are.
            findings = [x for f in fixes for x in (f.unfixed if show_diff else f.remaining)]
        else:
            findings = lint_paths(list(paths) or ["."], config)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if show_diff:
        for file_fix in fixes:
            click.echo(file_fix.diff(), nl=False)
        _summarize_fixes(fixes, written=False)
        _echo_findings(findings, output_format, err=True)
    else:
        unwritten = _write_all(fixes) if fix else []
        if fix:
            _summarize_fixes([f for f in fixes if f not in unwritten], written=True)
        _echo_findings(findings, output_format)
        if unwritten:
            raise SystemExit(1)
    if any(f.severity == "error" for f in findings):
        raise SystemExit(1)


def _write_all(fixes: list[FileFix]) -> list[FileFix]:
    """Write every changed file; report (not raise) the ones that cannot be written."""
    failed: list[FileFix] = []
    for file_fix in fixes:
        try:
            file_fix.write()
        except OSError as exc:
            click.echo(
                f"could not write the fix to {file_fix.path}: {exc}; left as it was", err=True
            )
            failed.append(file_fix)
    return failed


def main() -> None:
    """Run ``lint`` as a standalone program (``python -m continuum_lint``)."""
    lint(prog_name="continuum lint")
