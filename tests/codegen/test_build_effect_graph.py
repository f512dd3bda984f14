"""``continuum build`` says, per changed workflow, whether its static effect graph changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from continuum.cli.build_command import build_command
from continuum_codegen import build

WriteProject = Callable[..., Path]

FLOWS = """\
import continuum


@continuum.activity
def charge(amount: int) -> int:
    return amount


def bill(x: int) -> int:
    return continuum.execute(charge, x)


@continuum.workflow(name="demo.Flow")
def flow(x: int) -> int:
    y = bill(x)
    continuum.sleep(5)
    return y + 1
"""


def _project(write_project: WriteProject) -> Path:
    root = write_project({"myapp/__init__.py": "", "myapp/flows.py": FLOWS})
    build(root)
    return root


def _edit(root: Path, old: str, new: str) -> None:
    path = root / "myapp/flows.py"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_unchanged_workflow_has_no_effect_diff(write_project: WriteProject) -> None:
    root = _project(write_project)
    (item,) = build(root, check=True).workflows
    assert item.status == "unchanged" and item.effects is None


def test_edit_that_keeps_every_command_is_a_safe_edit(write_project: WriteProject) -> None:
    root = _project(write_project)
    before = build(root, check=True).workflows[0].hash
    _edit(root, "return y + 1", "return y + 2")
    (item,) = build(root, check=True).workflows
    assert item.effects is not None
    assert item.effects.previous == before
    assert not item.effects.changed and item.effects.lines == ()
    assert item.effects.verdict == "effect graph unchanged: safe edit"


def test_new_effect_in_a_helper_needs_patched_or_a_new_version(
    write_project: WriteProject,
) -> None:
    root = _project(write_project)
    call = "    return continuum.execute(charge, x)"
    _edit(root, call, "    continuum.sleep(1)\n" + call)
    (item,) = build(root, check=True).workflows
    assert item.effects is not None and item.effects.changed
    assert "needs continuum.patched() or a new version" in item.effects.verdict
    assert "+ sleep() at bill+1 (myapp/flows.py:10)" in item.effects.lines
    assert any(
        line.startswith("- execute(charge) at bill+1 (myapp/_continuum/V_")
        for line in item.effects.lines
    )
    assert "+ execute(charge) at bill+2 (myapp/flows.py:11)" in item.effects.lines


def test_build_prints_the_verdict_per_changed_workflow(write_project: WriteProject) -> None:
    root = _project(write_project)
    _edit(root, "continuum.sleep(5)", "continuum.wait_signal('go')")
    result = CliRunner().invoke(build_command, ["--project", str(root), "--check"])
    assert result.exit_code == 1
    assert "effect graph changed: needs continuum.patched() or a new version" in result.output
    assert "- sleep() at flow+3 (myapp/_continuum/V_" in result.output
    assert "+ wait_signal(go) at flow+3 (myapp/flows.py:16)" in result.output
