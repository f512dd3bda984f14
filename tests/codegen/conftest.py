"""Fixtures for codegen tests: throwaway projects in ``tmp_path`` and import hygiene."""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

PYPROJECT = """\
[project]
name = "demo"

[tool.continuum]
workflows = {workflows}
generated = "{generated}"
"""

WriteProject = Callable[..., Path]


@pytest.fixture
def write_project(tmp_path: Path) -> WriteProject:
    """Write ``files`` (path -> source, dedented) plus a pyproject under ``tmp_path``."""

    def write(
        files: dict[str, str],
        workflows: tuple[str, ...] = ("myapp.flows",),
        generated: str = "myapp/_continuum",
        root: Path | None = None,
    ) -> Path:
        base = root or tmp_path
        listed = "[" + ", ".join(f'"{w}"' for w in workflows) + "]"
        (base / "pyproject.toml").write_text(
            PYPROJECT.format(workflows=listed, generated=generated), encoding="utf-8"
        )
        for rel, text in files.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text), encoding="utf-8")
        return base

    return write


@pytest.fixture
def importable(tmp_path: Path) -> Iterator[Path]:
    """Put ``tmp_path`` on ``sys.path``; drop every module imported from it afterwards."""
    before = set(sys.modules)
    sys.path.insert(0, str(tmp_path))
    try:
        yield tmp_path
    finally:
        sys.path.remove(str(tmp_path))
        for name in set(sys.modules) - before:
            module = sys.modules.get(name)
            origin = getattr(module, "__file__", None) or ""
            if origin.startswith(str(tmp_path)):
                del sys.modules[name]


def _stub_continuum() -> types.ModuleType:
    """A minimal ``continuum`` whose ``workflow`` records the frozen marker it sees."""
    module = types.ModuleType("continuum")
    registered: list[tuple[str, str | None]] = []

    def workflow(fn: Any = None, **options: Any) -> Any:
        def register(func: Any) -> Any:
            func.__continuum_seen_frozen__ = func.__globals__.get("__continuum_frozen__")
            registered.append((func.__qualname__, func.__continuum_seen_frozen__))
            return func

        return register(fn) if callable(fn) else register

    def identity(fn: Any = None, **options: Any) -> Any:
        return fn if callable(fn) else (lambda f: f)

    module.workflow = workflow  # type: ignore[attr-defined]
    module.activity = identity  # type: ignore[attr-defined]
    module.pure = identity  # type: ignore[attr-defined]
    module.patched = lambda patch_id: True  # type: ignore[attr-defined]
    module.registered = registered  # type: ignore[attr-defined]
    return module


@pytest.fixture
def stub_continuum(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Replace ``continuum`` in ``sys.modules`` with a stub for import tests (restored after)."""
    stub = _stub_continuum()
    monkeypatch.setitem(sys.modules, "continuum", stub)
    return stub
