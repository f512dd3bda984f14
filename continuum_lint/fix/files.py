"""Fixing files: scan, rewrite, scan again until nothing more is fixable, diff.

Each scan uses a fresh :class:`~continuum_lint.scanner.Scanner`, because a scanner caches
verdicts per function and the function's text is what changed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from continuum_lint.config import Config
from continuum_lint.findings import Finding
from continuum_lint.fix import FIXABLE_CODES, fix_source
from continuum_lint.scanner import Scanner, might_define_checked_code, suppressed

_MAX_PASSES = 3
"""A fix never enables another today; the extra passes only guard idempotency."""


def findings_in(source: str, path: str, config: Config) -> list[Finding]:
    """The unsuppressed findings of one file's text (never raises)."""
    try:
        findings = Scanner(config).scan_source(source, path)
    except Exception as exc:  # report, never a traceback
        message = f"could not analyse {path}: {type(exc).__name__}: {exc}"
        return [Finding(path, 1, 0, "CNT100", message)]
    lines = source.splitlines()
    return [f for f in findings if not suppressed(f, lines)]


@dataclass(frozen=True)
class FileFix:
    """What fixing one file did (or would do): its text before and after, and findings.

    ``remaining`` are the findings of ``after`` (positions in the fixed text);
    :attr:`unfixed` are the same findings at their positions in ``before``.
    """

    path: str
    before: str
    after: str
    found: tuple[Finding, ...]
    fixed: tuple[Finding, ...]
    remaining: tuple[Finding, ...]

    @property
    def unfixed(self) -> tuple[Finding, ...]:
        """The findings of ``before`` that the fix does not remove."""
        fixed = set(self.fixed)
        return tuple(f for f in self.found if f not in fixed)

    @property
    def changed(self) -> bool:
        """Whether the file's text changes."""
        return self.after != self.before

    def diff(self) -> str:
        """A unified diff from ``before`` to ``after`` (empty when nothing changes)."""
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True),
            self.after.splitlines(keepends=True),
            fromfile=self.path,
            tofile=self.path,
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)

    def write(self) -> None:
        """Write ``after`` over the file (bytes as they are: line endings are kept)."""
        if self.changed:
            Path(self.path).write_bytes(self.after.encode("utf-8"))


def fix_text(source: str, path: str, config: Config) -> FileFix:
    """Fix ``source`` (the text of ``path``) without touching the file."""
    text = source
    fixed: list[Finding] = []
    found = findings = findings_in(text, path, config)
    for _ in range(_MAX_PASSES):
        if not any(f.code in FIXABLE_CODES for f in findings):
            break
        try:
            result = fix_source(text, findings, path)
        except cst.ParserSyntaxError:
            break  # the scanner parsed it with ast; libcst did not: report, don't fix
        if not result.changed:
            break
        fixed.extend(result.fixed)
        text = result.source
        findings = findings_in(text, path, config)
    return FileFix(path, source, text, tuple(found), tuple(fixed), tuple(findings))


def fix_file(file: Path, config: Config) -> FileFix:
    """Fix one file's text (read as bytes, so ``\\r\\n`` stays) without writing it.

    Raises :class:`OSError` or :class:`UnicodeDecodeError` when it cannot be read.
    """
    source = file.read_bytes().decode("utf-8")
    path = str(file)
    if not might_define_checked_code(source):
        return FileFix(path, source, source, (), (), ())
    return fix_text(source, path, config)
