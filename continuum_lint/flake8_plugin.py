"""flake8 plugin: ``flake8 --select CNT`` runs the determinism scanner.

flake8 applies ``# noqa`` itself and reports syntax errors as E999, so unparseable files
yield nothing here. The plugin scans the ``ast`` tree flake8 already built (no second
parse); files without workflows are dismissed by a substring check before anything else.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from pathlib import Path

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
