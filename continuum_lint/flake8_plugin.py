"""flake8 plugin: ``flake8 --select CNT`` runs the determinism scanner.

flake8 applies ``# noqa`` itself. The plugin scans the ``ast`` tree flake8 already built
(no second parse); files without workflows are dismissed by a substring check before
anything else. flake8 builds that tree before any plugin runs and reports a file that
does not parse as E999 itself, so no tree plugin ever sees it, and under
``--select CNT`` such a workflow file would pass silently; importing this module wraps
flake8's file checker so that an E999 in a file that may define workflows is also
reported as CNT100, as ``continuum lint`` does.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from flake8.checker import FileChecker

from continuum_lint import __version__
from continuum_lint.config import Config, ConfigError, load_config
from continuum_lint.scanner import Scanner, might_define_checked_code

_SCANNERS: dict[Config, Scanner] = {}


def _scanner_for(filename: str) -> Scanner:
    try:
        config = load_config(Path.cwd() if filename in ("-", "stdin") else filename)
    except (ConfigError, OSError):
        config = Config()
    scanner = _SCANNERS.get(config)
    if scanner is None:
        scanner = _SCANNERS[config] = Scanner(config)
    return scanner


class ContinuumFlake8Plugin:
    """The flake8 entry point (``CNT = continuum_lint.flake8_plugin:ContinuumFlake8Plugin``)."""

    name = "continuum-lint"
    version = __version__

    def __init__(self, tree: ast.AST, filename: str, lines: Sequence[str]) -> None:
        self.tree = tree
        self.filename = filename
        self.lines = lines

    def run(self) -> Iterator[tuple[int, int, str, type[ContinuumFlake8Plugin]]]:
        """Yield ``(line, col, "CNTnnn message", type)`` for each finding."""
        source = "".join(self.lines)
        if not might_define_checked_code(source):
            return
        tree = self.tree if isinstance(self.tree, ast.Module) else None
        try:
            findings = _scanner_for(self.filename).scan_source(source, self.filename, tree)
        except Exception as exc:  # a plugin crash would abort the whole flake8 run
            message = f"CNT100 could not analyse this file: {type(exc).__name__}: {exc}"
            yield (1, 0, message, type(self))
            return
        for finding in findings:
            if finding.code == "CNT100":
                continue
            yield (finding.line, finding.col, f"{finding.code} {finding.message}", type(self))


_RunChecks = Callable[[FileChecker], tuple[str, Any, Any]]


def _report_syntax_errors_as_cnt100(original: _RunChecks) -> _RunChecks:
    @functools.wraps(original)
    def run_checks(self: FileChecker) -> tuple[str, Any, Any]:
        name, results, statistics = original(self)
        syntax = [r for r in results if r[0] == "E999"]
        processor = getattr(self, "processor", None)
        source = "".join(processor.lines) if processor is not None else ""
        if syntax and might_define_checked_code(source):
            _, line, col, text, _ = syntax[0]
            self.report("CNT100", line, col, f"could not parse this file: {text}; fix it")
        return name, results, statistics

    run_checks.__continuum_cnt100__ = True  # type: ignore[attr-defined]
    return run_checks


# Import-time, so flake8's worker processes (which import the plugin) get it too.
if not getattr(FileChecker.run_checks, "__continuum_cnt100__", False):
    FileChecker.run_checks = _report_syntax_errors_as_cnt100(  # type: ignore[method-assign,assignment]
        FileChecker.run_checks
    )
