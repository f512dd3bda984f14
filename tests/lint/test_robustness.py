"""The scanner never crashes: fuzzed source, installed packages, the project's own code."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings

from continuum_lint import Scanner

ROOT = Path(__file__).resolve().parents[2]


class _MakeWorkflows(cst.CSTTransformer):
    """Decorate every function as a workflow so the fuzzed code is actually checked."""

    def leave_FunctionDef(
        self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef
    ) -> cst.FunctionDef:
        decorator = cst.Decorator(cst.parse_expression("continuum.workflow"))
        return updated_node.with_changes(decorators=[decorator, *updated_node.decorators])


def _as_workflow_module(source: str) -> str | None:
    try:
        module = cst.parse_module(source)
    except (cst.ParserSyntaxError, RecursionError):
        return None
    return "import continuum\n" + module.visit(_MakeWorkflows()).code


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_scanner_never_crashes_on_arbitrary_valid_python(source: str) -> None:
    workflow_module = _as_workflow_module(source)
    if workflow_module is None:
        return
    Scanner().scan_source(workflow_module, "fuzz.py")
    Scanner(every_function=True).scan_source(source, "fuzz.py")


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_node())
def test_scanner_never_crashes_on_generated_syntax_trees(source: str) -> None:
    Scanner(every_function=True).scan_source(source, "fuzz.py")


def _site_packages_files(limit: int) -> list[Path]:
    purelib = Path(sysconfig.get_paths()["purelib"])
    files = sorted(p for p in purelib.rglob("*.py") if 500 < p.stat().st_size < 12_000)
    step = max(1, len(files) // limit)
    return files[::step][:limit]


@pytest.mark.slow
def test_scanner_survives_installed_site_packages() -> None:
    files = _site_packages_files(200)
    assert len(files) >= 100
    scanner = Scanner(every_function=True)
    checked = 0
    for path in files:
        try:
            source = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        scanner.scan_source(source, str(path))
        checked += 1
    assert checked >= 100


def test_project_examples_and_own_workflows_have_no_errors() -> None:
    scanner = Scanner()
    errors = []
    for directory in ("examples", "continuum"):
        for path in sorted((ROOT / directory).rglob("*.py")):
            for finding in scanner.scan_source(path.read_text(encoding="utf-8"), str(path)):
                errors.append(finding.format())
    assert errors == []
