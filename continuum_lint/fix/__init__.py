"""``continuum lint --fix``: rewrite findings that have a deterministic equivalent.

The fixer reads only the scanner's public findings (path, line, column, code) and its
own libcst parse of the file, so it agrees with whatever the scanner decides is workflow
code. One module per fix family:

- :mod:`~continuum_lint.fix.clock`: CNT101 clock reads and ``time.sleep``;
- :mod:`~continuum_lint.fix.values`: CNT102 ``random.random()``, CNT103 ``uuid.uuid4()``;
- :mod:`~continuum_lint.fix.sets`: CNT216 set iteration → ``sorted(...)``.

Comments and formatting outside the rewritten expressions are kept byte for byte;
``import continuum`` is added when missing; an import of ``time``/``datetime``/
``random``/``uuid`` that the fix left unused is removed (never in ``__init__.py``, never
one listed in ``__all__``). Fixing is idempotent: fixed code is not reported again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext

from continuum_lint.findings import Finding
from continuum_lint.fix.codemod import FIXABLE_CODES, FixCommand, FixTargets


@dataclass(frozen=True)
class FixResult:
    """The rewritten source and the findings the rewrite removed."""

    source: str
    fixed: tuple[Finding, ...]

    @property
    def changed(self) -> bool:
        """Whether anything was rewritten."""
        return bool(self.fixed)


def fix_source(source: str, findings: Iterable[Finding], path: str = "<string>") -> FixResult:
    """Apply every safe fix for ``findings`` (found in ``source``) and return the result.

    Findings of other files, of codes without a fix, or at positions where the fix is not
    safe are left as they are. Raises :class:`libcst.ParserSyntaxError` when ``source``
    does not parse (the scanner reports that as CNT100 first).
    """
    wanted: dict[tuple[int, int], set[str]] = {}
    by_key: dict[tuple[int, int, str], Finding] = {}
    for finding in findings:
        if finding.code in FIXABLE_CODES and finding.path == path:
            wanted.setdefault((finding.line, finding.col), set()).add(finding.code)
            by_key[(finding.line, finding.col, finding.code)] = finding
    if not wanted:
        return FixResult(source, ())
    targets = FixTargets(wanted)
    module = cst.parse_module(source)
    command = FixCommand(
        CodemodContext(filename=path),
        targets,
        drop_imports=Path(path).name != "__init__.py",
    )
    new = _no_new_leading_blank_lines(command.transform_module(module), module)
    fixed = tuple(by_key[key] for key in targets.fixed)
    if not fixed:
        return FixResult(source, ())
    return FixResult(new.code, fixed)


def _no_new_leading_blank_lines(new: cst.Module, old: cst.Module) -> cst.Module:
    """Drop the blank lines a removed first import leaves at the top of the module."""
    if not new.body or not old.body or new.body[0] is old.body[0]:
        return new
    first = new.body[0]
    if not first.leading_lines or any(line.comment for line in first.leading_lines):
        return new
    if old.body[0].leading_lines:
        return new
    stripped = first.with_changes(leading_lines=[])
    return new.with_changes(body=[stripped, *new.body[1:]])


__all__ = ["FIXABLE_CODES", "FixResult", "fix_source"]
