"""`continuum build`: frozen files and manifest, idempotence, versions, --check and gc."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from continuum.cli.build_command import build_command
from continuum_codegen import Manifest, build, gc_versions

WriteProject = Callable[..., Path]  # the write_project fixture (conftest.py)

FLOWS = """\
import continuum

GREETING = "hello"


@continuum.activity
def send(text):
    return text


def compose(name):
    return f"{GREETING}, {name}"


@continuum.workflow
def greet(name):
    if continuum.patched("shorter-greeting"):
        return send(compose(name)[:10])
    return send(compose(name))
"""


def _project(write_project: WriteProject, flows: str = FLOWS) -> Path:
    return write_project({"myapp/__init__.py": "", "myapp/flows.py": flows})


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def test_build_writes_package_frozen_module_and_manifest(write_project: WriteProject) -> None:
    root = _project(write_project)
    report = build(root)
    (item,) = report.workflows
    generated = root / "myapp" / "_continuum"
    assert item.status == "new"
    assert sorted(_snapshot(generated)) == sorted(
        ["__init__.py", f"V_{item.hash}.py", "manifest.json"]
    )
    manifest = json.loads((generated / "manifest.json").read_text())
    assert manifest["scheme"] == "continuum-hash-v1"
    workflow = manifest["workflows"]["myapp.flows:greet"]
    assert workflow["current"] == item.hash
    version = workflow["versions"][item.hash]
    assert version["entrypoint"] == f"myapp._continuum.V_{item.hash}"
    assert version["qualname"] == "greet"
    assert version["source"] == "myapp/flows.py"
    assert version["patched"] == [
        {"id": "shorter-greeting", "line": 17, "function": "myapp.flows:greet"}
    ]
    assert version["built_at"].endswith("Z")


def test_rebuilding_unchanged_code_is_byte_identical_and_writes_nothing(
    write_project: WriteProject,
) -> None:
    root = _project(write_project)
    build(root)
    generated = root / "myapp" / "_continuum"
    before = _snapshot(generated)
    report = build(root)
    assert report.written == []
    assert report.workflows[0].status == "unchanged"
    assert _snapshot(generated) == before


def test_changed_body_adds_second_version_and_keeps_the_first(
    write_project: WriteProject,
) -> None:
    root = _project(write_project)
    first = build(root).workflows[0]
    generated = root / "myapp" / "_continuum"
    first_module = (generated / f"V_{first.hash}.py").read_bytes()
    first_entry = Manifest.load(generated / "manifest.json").workflows["myapp.flows:greet"]

    _project(write_project, FLOWS.replace('"hello"', '"hi"'))
    second = build(root).workflows[0]

    assert second.hash != first.hash
    assert second.status == "new"
    manifest = Manifest.load(generated / "manifest.json")
    entry = manifest.workflows["myapp.flows:greet"]
    assert entry.current == second.hash
    assert set(entry.versions) == {first.hash, second.hash}
    assert entry.versions[first.hash] == first_entry.versions[first.hash]
    assert (generated / f"V_{first.hash}.py").read_bytes() == first_module
    assert (generated / f"V_{second.hash}.py").exists()


def test_reverting_code_makes_the_old_version_current_again(write_project: WriteProject) -> None:
    root = _project(write_project)
    first = build(root).workflows[0]
    _project(write_project, FLOWS.replace('"hello"', '"hi"'))
    build(root)
    _project(write_project)
    again = build(root).workflows[0]
    assert again.hash == first.hash
    assert again.status == "restored"


def test_check_passes_after_build_and_fails_after_an_edit(write_project: WriteProject) -> None:
    root = _project(write_project)
    runner = CliRunner()
    missing = runner.invoke(build_command, ["--project", str(root), "--check"])
    assert missing.exit_code == 1
    assert "stale: myapp/_continuum/manifest.json: missing" in missing.output
    assert not (root / "myapp" / "_continuum").exists()

    assert runner.invoke(build_command, ["--project", str(root)]).exit_code == 0
    fresh = runner.invoke(build_command, ["--project", str(root), "--check"])
    assert fresh.exit_code == 0, fresh.output
    assert "up to date" in fresh.output

    _project(write_project, FLOWS.replace("[:10]", "[:12]"))
    edited = runner.invoke(build_command, ["--project", str(root), "--check"])
    assert edited.exit_code == 1
    assert "which the manifest does not have as current" in edited.output


def test_comment_only_edit_passes_check_and_keeps_the_frozen_file(
    write_project: WriteProject,
) -> None:
    root = _project(write_project)
    item = build(root).workflows[0]
    frozen = root / "myapp" / "_continuum" / f"V_{item.hash}.py"
    first = frozen.read_bytes()
    _project(write_project, FLOWS.replace("def greet(name):", "def greet(name):\n    # why"))
    check = build(root, check=True)
    assert check.ok
    assert check.notes and "kept as first built" in check.notes[0]
    assert build(root).written == []
    assert frozen.read_bytes() == first


def test_check_reports_a_deleted_frozen_module(write_project: WriteProject) -> None:
    root = _project(write_project)
    item = build(root).workflows[0]
    (root / "myapp" / "_continuum" / f"V_{item.hash}.py").unlink()
    report = build(root, check=True)
    assert report.stale == [f"myapp/_continuum/V_{item.hash}.py: missing"]
    assert build(root).written == [root / "myapp" / "_continuum" / f"V_{item.hash}.py"]


def test_json_format_lists_workflows_and_staleness(write_project: WriteProject) -> None:
    root = _project(write_project)
    result = CliRunner().invoke(
        build_command, ["--project", str(root), "--check", "--format", "json"]
    )
    payload = json.loads(result.output)
    assert result.exit_code == 1
    assert payload["ok"] is False
    assert payload["package"] == "myapp._continuum"
    assert payload["workflows"][0]["name"] == "myapp.flows:greet"
    assert payload["workflows"][0]["patched"][0]["id"] == "shorter-greeting"


def test_missing_tool_continuum_is_a_one_line_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    result = CliRunner().invoke(build_command, ["--project", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "no [tool.continuum] table" in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_broken_workflow_module_is_a_one_line_error(write_project: WriteProject) -> None:
    root = _project(write_project, "import continuum\n\ndef broken(:\n    pass\n")
    result = CliRunner().invoke(build_command, ["--project", str(root)])
    assert result.exit_code == 1
    assert re.search(r"flows\.py:\d+:\d+: cannot parse", result.output)
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_workflow_module_is_a_one_line_error(write_project: WriteProject) -> None:
    root = write_project({"myapp/__init__.py": ""}, workflows=("myapp.missing",))
    result = CliRunner().invoke(build_command, ["--project", str(root)])
    assert result.exit_code == 1
    assert "cannot find module 'myapp.missing'" in result.output


def test_src_layout_generated_package_name_drops_src(write_project: WriteProject) -> None:
    root = write_project(
        {"src/myapp/__init__.py": "", "src/myapp/flows.py": FLOWS},
        generated="src/myapp/_continuum",
    )
    item = build(root).workflows[0]
    assert item.entrypoint == f"myapp._continuum.V_{item.hash}"


def test_gc_is_a_dry_run_without_execute(write_project: WriteProject) -> None:
    root = _project(write_project)
    old = build(root).workflows[0].hash
    _project(write_project, FLOWS.replace('"hello"', '"hi"'))
    build(root)
    generated = root / "myapp" / "_continuum"
    before = _snapshot(generated)
    report = gc_versions(root, keep=set())
    assert report.removable == [("myapp.flows:greet", old)]
    assert _snapshot(generated) == before


def test_gc_keeps_pinned_and_current_versions_and_removes_the_rest(
    write_project: WriteProject,
) -> None:
    root = _project(write_project)
    hashes = []
    for greeting in ("hello", "hi", "hey", "yo"):
        _project(write_project, FLOWS.replace('"hello"', f'"{greeting}"'))
        hashes.append(build(root).workflows[0].hash)
    v1, v2, v3, current = hashes
    report = gc_versions(root, keep={v2}, execute=True)

    generated = root / "myapp" / "_continuum"
    entry = Manifest.load(generated / "manifest.json").workflows["myapp.flows:greet"]
    assert sorted(report.removable) == sorted(
        [("myapp.flows:greet", v1), ("myapp.flows:greet", v3)]
    )
    assert report.kept_pinned == [("myapp.flows:greet", v2)]
    assert entry.current == current
    assert set(entry.versions) == {v2, current}
    assert {p.name for p in generated.glob("V_*.py")} == {f"V_{v2}.py", f"V_{current}.py"}
    assert build(root, check=True).ok
