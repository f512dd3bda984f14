"""One reader of ``[tool.continuum]`` (continuum_pyproject) behind lint, codegen, the CLI
and the version registry: the same file is found the same way, and every problem is the
same one-line message naming the file and the key, in each caller's own error type."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click
import pytest

from continuum.cli.version_commands import find_project_root
from continuum.definitions.versions import VersionRegistry, find_manifest
from continuum.errors import ConfigurationError, ContinuumError
from continuum_codegen.config import load_config as codegen_config
from continuum_codegen.errors import ConfigError as CodegenConfigError
from continuum_lint.config import ConfigError as LintConfigError
from continuum_lint.config import load_config as lint_config
from continuum_pyproject import PyprojectError, find, load, read


def _pyproject(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _message(call: Callable[[], object]) -> str:
    """The one-line message ``call`` fails with, whichever error type it uses."""
    with pytest.raises((PyprojectError, ContinuumError, click.ClickException)) as info:
        call()
    exc = info.value
    text = exc.message if isinstance(exc, click.ClickException) else str(exc)
    assert "\n" not in text
    return text


def _callers(root: Path) -> dict[str, Callable[[], object]]:
    return {
        "lint": lambda: lint_config(root / "flows.py"),
        "codegen": lambda: codegen_config(root),
        "registry": lambda: VersionRegistry.discover(root),
        "cli": lambda: find_project_root(root),
    }


def test_invalid_toml_is_the_same_error_everywhere(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, "[tool.continuum\nworkflows = [")
    messages = {name: _message(call) for name, call in _callers(tmp_path).items()}
    assert len(set(messages.values())) == 1, messages
    assert messages["lint"].startswith(f"{path}: invalid TOML: ")


def test_each_caller_keeps_its_error_family(tmp_path: Path) -> None:
    _pyproject(tmp_path, "not toml at all = = =")
    with pytest.raises(LintConfigError):
        lint_config(tmp_path)
    with pytest.raises(CodegenConfigError):
        codegen_config(tmp_path)
    with pytest.raises(ConfigurationError):
        VersionRegistry.discover(tmp_path)
    with pytest.raises(click.ClickException):
        find_project_root(tmp_path)


def test_a_bad_generated_names_file_and_key_in_codegen_and_registry(tmp_path: Path) -> None:
    path = _pyproject(
        tmp_path, '[tool.continuum]\nworkflows = ["app.flows"]\ngenerated = "my-app/_gen"\n'
    )
    codegen = _message(lambda: codegen_config(tmp_path))
    registry = _message(lambda: find_manifest(tmp_path))
    assert codegen == registry
    assert codegen.startswith(f"{path}: [tool.continuum] generated 'my-app/_gen' must be")


def test_a_bad_workflows_list_names_file_and_key(tmp_path: Path) -> None:
    generated = tmp_path / "app" / "_gen"
    generated.mkdir(parents=True)
    (generated / "manifest.json").write_text('{"workflows": {}}\n', encoding="utf-8")
    path = _pyproject(
        tmp_path, '[tool.continuum]\nworkflows = "app.flows"\ngenerated = "app/_gen"\n'
    )
    expected = f"{path}: [tool.continuum] workflows must be a"
    assert _message(lambda: codegen_config(tmp_path)).startswith(expected)
    assert _message(lambda: VersionRegistry.discover(tmp_path)).startswith(expected)


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ('trusted_modules = "numpy"', "trusted_modules"),
        ('untrusted_call_severity = "loud"', "untrusted_call_severity"),
        ('denylist = [{ code = "CNT101" }]', "denylist"),
        ('denylist = [{ name = "x.y", code = "E1" }]', "denylist"),
        ('denylist = "x.y"', "denylist"),
    ],
)
def test_lint_settings_errors_name_file_and_key(tmp_path: Path, line: str, key: str) -> None:
    path = _pyproject(tmp_path, f"[tool.continuum]\n{line}\n")
    assert _message(lambda: lint_config(tmp_path)).startswith(f"{path}: [tool.continuum] {key} ")


def test_a_pyproject_without_the_table_is_passed_over(tmp_path: Path) -> None:
    outer = _pyproject(
        tmp_path, '[tool.continuum]\ntrusted_modules = ["money"]\ngenerated = "app/_gen"\n'
    )
    inner = tmp_path / "packages" / "billing"
    _pyproject(inner, '[project]\nname = "billing"\n')
    assert find(inner / "flows.py") == read(outer)
    assert lint_config(inner / "flows.py").trusted_modules == ("money",)
    assert find_project_root(inner) == tmp_path
    generated = tmp_path / "app" / "_gen"
    generated.mkdir(parents=True)
    (generated / "manifest.json").write_text('{"workflows": {}}\n', encoding="utf-8")
    assert find_manifest(inner) == generated / "manifest.json"


def test_no_table_anywhere_is_not_an_error_for_lookups(tmp_path: Path) -> None:
    _pyproject(tmp_path, '[project]\nname = "x"\n')
    assert find(tmp_path) is None
    assert find_project_root(tmp_path) is None
    assert find_manifest(tmp_path) is None
    assert lint_config(tmp_path).trusted_modules == ()
    assert not VersionRegistry.discover(tmp_path).built


def test_a_project_root_without_the_table_is_an_error_for_the_build(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[project]\nname = "x"\n')
    assert _message(lambda: load(path)).startswith(f"{path}: no [tool.continuum] table")
    missing = _message(lambda: codegen_config(tmp_path / "elsewhere"))
    assert missing.endswith("not found (pass --project to point at your project)")


def test_lint_given_a_pyproject_reads_exactly_that_file(tmp_path: Path) -> None:
    _pyproject(tmp_path, '[tool.continuum]\ntrusted_modules = ["outer"]\n')
    inner = _pyproject(tmp_path / "sub", '[tool.continuum]\ntrusted_modules = ["inner"]\n')
    bare = _pyproject(tmp_path / "bare", '[project]\nname = "bare"\n')
    assert lint_config(inner).trusted_modules == ("inner",)
    assert lint_config(bare).trusted_modules == ()  # not the outer project's


def test_tool_continuum_must_be_a_table(tmp_path: Path) -> None:
    path = _pyproject(tmp_path, '[tool]\ncontinuum = "yes"\n')
    assert _message(lambda: read(path)) == f"{path}: [tool.continuum] must be a table"
