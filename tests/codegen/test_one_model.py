"""Codegen builds on the scanner's source model; it has no parser or resolver of its own."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _libcst_calls(path: Path) -> set[str]:
    """``cst.<name>`` attributes the module uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "cst"
    }


def test_the_lint_package_never_imports_codegen() -> None:
    for path in sorted((ROOT / "continuum_lint").rglob("*.py")):
        assert not any(m.startswith("continuum_codegen") for m in _imports(path)), path


def test_codegen_neither_parses_modules_nor_resolves_scopes_itself() -> None:
    for path in sorted((ROOT / "continuum_codegen").rglob("*.py")):
        assert "parse_module" not in _libcst_calls(path), path
        imported = _imports(path)
        assert "libcst.metadata" not in imported, path  # scopes and positions: the model's
        assert "importlib.machinery" not in imported, path  # locating modules: the model's


def test_codegen_discovery_and_closures_come_from_the_model() -> None:
    codegen = ROOT / "continuum_codegen"
    assert "continuum_lint.source" in _imports(codegen / "discover.py")
    assert "continuum_lint.source.closure" in _imports(codegen / "hashing.py")
    assert "continuum_lint.source.modules" in _imports(codegen / "modules.py")
