"""flake8 plugin and ``continuum lint``: same findings, same format, noqa honoured."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from click.testing import CliRunner

from continuum_lint.cli import lint

FLOWS = textwrap.dedent(
    """\
    import time
    from datetime import datetime as D
    import continuum


    def total_of(xs: list[int]) -> float:
        return sum(xs) + time.time()


    @continuum.workflow
    def order_flow(xs: list[int]) -> object:
        total_of(xs)
        D.now()  # noqa: CNT101
        D.utcnow()  # noqa
        D.today()  # noqa: CNT999
        print(xs)
        return None
    """
)


def _flows(tmp_path: Path) -> Path:
    path = tmp_path / "flows.py"
    path.write_text(FLOWS)
    return path


def _flake8(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "flake8", "--select", "CNT", "-j", "1", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, check=False)


def test_flake8_reports_chain_alias_and_honours_noqa(tmp_path: Path) -> None:
    _flows(tmp_path)
    result = _flake8("flows.py", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert [line.split(" ", 2)[:2] for line in lines] == [
        ["flows.py:7:22:", "CNT101"],
        ["flows.py:15:5:", "CNT101"],
        ["flows.py:16:5:", "CNT204"],
    ]
    assert "order_flow at flows.py:11 → total_of at flows.py:12" in lines[0]


def test_flake8_ignores_files_without_workflows(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(
        "import time\n\n\ndef f() -> float:\n    return time.time()\n"
    )
    result = _flake8("plain.py", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_flake8_reports_an_unparseable_workflow_file_as_cnt100(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("import continuum\n\n@continuum.workflow\ndef f(x:\n")
    (tmp_path / "plain_broken.py").write_text("def g(:\n")
    for jobs in ("1", "2"):
        result = _flake8("-j", jobs, "broken.py", "plain_broken.py", cwd=tmp_path)
        assert result.returncode == 1, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 1 and lines[0].startswith("broken.py:4:"), lines
        assert " CNT100 could not parse this file: SyntaxError" in lines[0]
    both = _flake8("--select", "CNT,E999", "broken.py", cwd=tmp_path)
    assert [line.split(" ")[1] for line in both.stdout.splitlines()] == ["E999", "CNT100"]
    lint_result = CliRunner().invoke(lint, [str(tmp_path / "broken.py")])
    assert "CNT100" in lint_result.output  # the same code from both front ends


def test_lint_command_prints_same_format_and_exits_1_on_errors(tmp_path: Path) -> None:
    path = _flows(tmp_path)
    result = CliRunner().invoke(lint, [str(path)])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if ": CNT" in line]
    assert [line.split(" ", 2)[:2] for line in lines] == [
        [f"{path}:7:22:", "CNT101"],
        [f"{path}:15:5:", "CNT101"],
        [f"{path}:16:5:", "CNT204"],
    ]


def test_lint_command_json_output_lists_findings_with_chain(tmp_path: Path) -> None:
    path = _flows(tmp_path)
    result = CliRunner().invoke(lint, ["--format", "json", str(tmp_path)])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert [(d["line"], d["code"], d["severity"]) for d in data] == [
        (7, "CNT101", "error"),
        (15, "CNT101", "error"),
        (16, "CNT204", "warning"),
    ]
    assert data[0]["path"] == str(path)
    assert data[0]["chain"][0].startswith("order_flow at ")


def test_lint_command_exits_0_when_only_warnings(tmp_path: Path) -> None:
    (tmp_path / "w.py").write_text(
        "import continuum\n\n\n@continuum.workflow\ndef flow(x: int) -> None:\n    print(x)\n"
    )
    result = CliRunner().invoke(lint, [str(tmp_path)])
    assert result.exit_code == 0
    assert "CNT204" in result.output


def test_lint_command_reports_unparseable_workflow_file_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text("import continuum\n@continuum.workflow\ndef f(:\n")
    result = CliRunner().invoke(lint, [str(tmp_path)])
    assert result.exit_code == 1
    assert "CNT100 could not parse" in result.output
    assert "Traceback" not in result.output


def test_lint_command_reads_tool_continuum_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.continuum]\nuntrusted_call_severity = "error"\n'
    )
    (tmp_path / "f.py").write_text(
        "import numpy\nimport continuum\n\n\n@continuum.workflow\n"
        "def flow(x: list[float]) -> float:\n    return float(numpy.mean(x))\n"
    )
    result = CliRunner().invoke(lint, [str(tmp_path)])
    assert result.exit_code == 1
    assert "CNT113" in result.output


def test_lint_command_rejects_bad_config_with_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.continuum]\nuntrusted_call_severity = "loud"\n')
    (tmp_path / "f.py").write_text("import continuum\n\n@continuum.workflow\ndef f(x): pass\n")
    result = CliRunner().invoke(lint, [str(tmp_path)])
    assert result.exit_code == 1
    assert "untrusted_call_severity" in result.output
    assert "Traceback" not in result.output
