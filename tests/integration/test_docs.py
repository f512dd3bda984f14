"""Docs are tests: every ```python block in README.md and guides/*.md runs.

The runnable blocks of one Markdown file are one program, run in order in a fresh
Python process from an empty folder, with ``CONTINUUM_DATABASE_URL`` naming a fresh
migrated database — a user who copies a guide's blocks into a file gets what this test
ran. Each block keeps its Markdown line numbers (the program is padded with blank
lines), so a traceback points at ``guides/x.md``'s own line. Top-level ``def test_*()``
functions a guide shows are then called, as pytest would.

Blocks written ```` ```python fragment ```` are deliberately incomplete (a signature, an
elided body): they are compiled, not run. ```` ```python flagged CNTnnn ```` and
```` ```python fix CNTnnn ```` blocks (the determinism guide's examples) are put in a
workflow body and scanned: a flagged one must be reported with its code, a fix must not.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from continuum_lint.config import Config
from continuum_lint.scanner import scan_source

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "guides").glob("*.md"))]
_FENCE = re.compile(r"^```python(?P<info>[^\n`]*)\n(?P<body>.*?)^```\s*$", re.S | re.M)
_CALL_TESTS = """

for _name, _fn in list(globals().items()):
    if _name.startswith("test_") and callable(_fn) and not _fn.__code__.co_argcount:
        _fn()
"""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the block's first code line
    info: tuple[str, ...]
    source: str

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def blocks(path: Path) -> list[Block]:
    """The ```python blocks of ``path`` with their info-string words."""
    text = path.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start("body")) + 1
        found.append(Block(path, line, tuple(match["info"].split()), match["body"]))
    return found


def program(path: Path) -> str | None:
    """The runnable blocks of ``path`` as one program, each at its Markdown line."""
    lines: list[str] = []
    for block in blocks(path):
        if block.info:
            continue
        lines.extend([""] * (block.line - 1 - len(lines)))
        lines.extend(block.source.splitlines())
    return "\n".join(lines) + _CALL_TESTS if lines else None


RUNNABLE = [p for p in DOCS if program(p) is not None]
ALL_BLOCKS = [b for p in DOCS for b in blocks(p)]


def test_every_markdown_file_with_python_is_covered() -> None:
    assert any(p.name == "README.md" for p in RUNNABLE)
    assert len(ALL_BLOCKS) > 20
    unknown = [b.where for b in ALL_BLOCKS if b.info and b.info[0] not in _KINDS]
    assert not unknown, f"unknown ```python info strings at {unknown}"


@pytest.mark.parametrize("path", RUNNABLE, ids=lambda p: str(p.relative_to(ROOT)))
def test_markdown_program_runs(path: Path, pg_dsn: str, tmp_path: Path) -> None:
    source = program(path)
    assert source is not None
    script = tmp_path / path.relative_to(ROOT).as_posix().replace("/", "__")
    script = script.with_suffix(".md.py")
    script.write_text(source, encoding="utf-8")
    work = tmp_path / "cwd"
    work.mkdir()
    env = {**os.environ, "CONTINUUM_DATABASE_URL": pg_dsn, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("CONTINUUM_PARANOID", None)
    proc = subprocess.run(
        [sys.executable, str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, (
        f"{path.relative_to(ROOT)}'s code blocks failed (line numbers are the Markdown's):\n"
        f"{proc.stdout}\n{proc.stderr}"
    )


FRAGMENTS = [b for b in ALL_BLOCKS if b.info[:1] == ("fragment",)]


def test_fragments_are_few_and_compile() -> None:
    assert len(FRAGMENTS) <= 5, [b.where for b in FRAGMENTS]
    for block in FRAGMENTS:
        compile(block.source, block.where, "exec")


LINT_EXAMPLES = [b for b in ALL_BLOCKS if b.info[:1] in (("flagged",), ("fix",))]


# What a reader of the determinism guide has imported: the examples name these modules.
_EXAMPLE_IMPORTS = (
    "import asyncio, datetime, decimal, os, random, sqlite3, subprocess, time, uuid, zoneinfo\n"
    "import requests\nimport continuum\n"
)


def _as_workflow(block: Block) -> str:
    """The example as the body of a workflow, or as a module when it defines one."""
    if re.search(r"^(@|def |async def |class )", block.source, re.M):
        return _EXAMPLE_IMPORTS + block.source
    body = textwrap.indent(block.source, "    ")
    return f"{_EXAMPLE_IMPORTS}\n@continuum.workflow\ndef example(order):\n{body}\n"


@pytest.mark.parametrize("block", LINT_EXAMPLES, ids=lambda b: b.where)
def test_determinism_example_is_scanned_as_documented(block: Block) -> None:
    kind, code = block.info[0], block.info[1]
    # CNT113 is CNT213 under `untrusted_call_severity = "error"`.
    config = Config(untrusted_call_severity="error" if code == "CNT113" else "warn")
    codes = {f.code for f in scan_source(_as_workflow(block), "example.py", config)}
    if kind == "flagged":
        assert code in codes, f"{block.where}: documented as {code}, scanner says {codes}"
    else:
        assert code not in codes, f"{block.where}: the documented fix still raises {code}"


_KINDS = {"fragment", "flagged", "fix"}
