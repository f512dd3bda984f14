"""``continuum lint --fix`` / ``--diff`` on real files, through both entry points."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from continuum.cli.main import cli
from continuum_lint.cli import lint

FLOWS = textwrap.dedent(
    """\
    import time
    import uuid

    import continuum


    @continuum.workflow
    def order_flow(skus: frozenset[str]) -> str:
        # Reserve every SKU, then wait a moment.
        for sku in skus:
            continuum.execute(reserve, sku)
        time.sleep(30)  # let the warehouse settle
        return str(uuid.uuid4())
    """
)

FIXED = textwrap.dedent(
    """\
    import continuum


    @continuum.workflow
    def order_flow(skus: frozenset[str]) -> str:
        # Reserve every SKU, then wait a moment.
        for sku in sorted(skus):
            continuum.execute(reserve, sku)
        continuum.sleep(continuum.seconds(30))  # let the warehouse settle
        return str(continuum.uuid4())
    """
)

UNFIXABLE = textwrap.dedent(
    """\
    import os
    import time

    import continuum


    @continuum.workflow
    def region_flow(x: int) -> str:
        time.sleep(x)
        return os.environ["REGION"]
    """
)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_fix_rewrites_the_file_and_exits_zero_when_nothing_remains(tmp_path: Path) -> None:
    path = _write(tmp_path, "flows.py", FLOWS)
    result = CliRunner().invoke(lint, ["--fix", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == FIXED
    assert "fixed 3 finding(s) in 1 file(s)" in result.stderr
    again = CliRunner().invoke(lint, ["--fix", str(path)])
    assert again.exit_code == 0
    assert path.read_text(encoding="utf-8") == FIXED
    assert "fixed 0 finding(s) in 0 file(s)" in again.stderr


def test_diff_prints_a_unified_diff_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, "flows.py", FLOWS)
    result = CliRunner().invoke(lint, ["--diff", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == FLOWS
    assert result.stdout.startswith(f"--- {path}\n+++ {path}\n@@ ")
    assert "-    time.sleep(30)  # let the warehouse settle\n" in result.stdout
    assert "+    continuum.sleep(continuum.seconds(30))  # let the warehouse settle\n" in (
        result.stdout
    )
    assert "would fix 3 finding(s) in 1 file(s)" in result.stderr


def test_diff_applies_with_patch_to_give_the_fixed_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "flows.py", FLOWS)
    result = subprocess.run(
        [sys.executable, "-m", "continuum_lint", "--diff", "flows.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    patch = subprocess.run(
        ["git", "apply", "-"], cwd=tmp_path, input=result.stdout, text=True, check=False
    )
    assert patch.returncode == 0
    assert path.read_text(encoding="utf-8") == FIXED


def test_unfixable_findings_are_reported_and_set_the_exit_code(tmp_path: Path) -> None:
    path = _write(tmp_path, "region.py", UNFIXABLE)
    for flag in ("--diff", "--fix"):
        result = CliRunner().invoke(lint, [flag, str(path)])
        assert result.exit_code == 1, result.output
        # --fix reports on the rewritten file (one import fewer); --diff on the file as is.
        remaining, line = (result.stdout, 9) if flag == "--fix" else (result.stderr, 10)
        assert f"{path}:{line}:12: CNT104 os.environ" in remaining
        assert "CNT101" not in remaining
    assert "continuum.sleep(continuum.seconds(x))" in path.read_text(encoding="utf-8")


def test_fix_with_json_reports_the_remaining_findings(tmp_path: Path) -> None:
    path = _write(tmp_path, "region.py", UNFIXABLE)
    result = CliRunner().invoke(lint, ["--fix", "--format", "json", str(path)])
    assert result.exit_code == 1
    assert [f["code"] for f in json.loads(result.stdout)] == ["CNT104"]


def test_fix_and_diff_together_or_diff_with_json_are_usage_errors(tmp_path: Path) -> None:
    path = _write(tmp_path, "flows.py", FLOWS)
    for args in (["--fix", "--diff"], ["--diff", "--format", "json"]):
        result = CliRunner().invoke(lint, [*args, str(path)])
        assert result.exit_code == 2
        assert "Traceback" not in result.output
    assert path.read_text(encoding="utf-8") == FLOWS


def test_files_without_workflows_and_unreadable_files(tmp_path: Path) -> None:
    plain = _write(
        tmp_path, "plain.py", "import time\n\n\ndef f() -> float:\n    return time.time()\n"
    )
    (tmp_path / "latin1.py").write_bytes(b"import continuum\n# caf\xe9\n")
    result = CliRunner().invoke(lint, ["--fix", str(tmp_path)])
    assert result.exit_code == 1
    assert "latin1.py:1:1: CNT100 could not read" in result.stdout
    assert plain.read_text(encoding="utf-8").endswith("return time.time()\n")


def test_continuum_lint_entry_point_fixes_too(tmp_path: Path) -> None:
    path = _write(tmp_path, "flows.py", FLOWS)
    result = CliRunner().invoke(cli, ["lint", "--fix", str(path)])
    assert result.exit_code == 0, result.output
    assert path.read_text(encoding="utf-8") == FIXED


def test_a_file_that_cannot_be_written_is_reported_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "flows.py", FLOWS)

    def refuse(self: Path, data: bytes) -> int:
        raise PermissionError(13, "Permission denied", str(self))

    # The process runs as root in CI, where file modes do not stop a write.
    monkeypatch.setattr(Path, "write_bytes", refuse)
    result = CliRunner().invoke(lint, ["--fix", str(path)])
    assert result.exit_code == 1
    assert f"could not write the fix to {path}: [Errno 13] Permission denied" in result.stderr
    assert "Traceback" not in result.output
    assert path.read_text(encoding="utf-8") == FLOWS
