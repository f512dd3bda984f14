"""The layer order of the ``continuum`` package, checked over its source with ``ast``.

Lower layers never import upper ones (lazy imports inside functions and ``TYPE_CHECKING``
imports count too), siblings in one layer do not import each other, and no modules import
each other in a circle at run time. Every module must be placed: a new top-level module or
subpackage fails here until it is added to ``LAYERS``. A failure names the offending
``file:line``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LAYERS: list[tuple[str, ...]] = [
    # leaves every layer may use
    (
        "continuum.errors",
        "continuum.telemetry",
        "continuum.tracecontext",
        "continuum.progress",
        "continuum.models",
        "continuum.current_run",
    ),
    ("continuum.durations", "continuum.validation"),
    ("continuum.payloads",),
    ("continuum.definitions",),
    ("continuum.engine",),
    ("continuum.db",),
    ("continuum.journal",),
    ("continuum.instance",),
    ("continuum.runtime",),
    # plug-ins above the runtime's core; only the worker (the runtime's composition
    # root) picks one by name
    ("continuum.executors",),
    ("continuum.runtime.worker",),
    ("continuum.client",),
    ("continuum.testing", "continuum.ops"),
    ("continuum.observer",),
    ("continuum",),  # the public facade, continuum/__init__.py
    ("continuum.otel", "continuum.examples"),
    ("continuum.cli",),
]
"""Low to high. A layer's names are siblings; the longest name that is a module or its
package places the module (``continuum`` itself names only ``continuum/__init__.py``)."""

INDEPENDENT: list[tuple[str, str]] = [
    ("continuum.client", "continuum.runtime"),
    ("continuum.client", "continuum.executors"),
]
"""Pairs that import each other in neither direction, though the order would allow one:
clients and workers each open their own instance (:mod:`continuum.instance`), and a
worker takes what it needs from a client through ``instance.Binding``."""

OTHER_PACKAGES = {
    "continuum_pyproject": "continuum.errors",
    "continuum_codegen": "continuum.ops",
    "continuum_lint": "continuum.ops",
}
"""Our other top-level packages, and the lowest layer that may import each."""


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    file: Path
    line: int
    type_checking: bool

    def where(self) -> str:
        return f"{source_name(self.importer, self.file)}:{self.line}"


def source_name(module: str, path: Path) -> str:
    """``module``'s file relative to the repository (``continuum/engine/api.py``)."""
    parts = module.split(".")
    if path.name == "__init__.py":
        parts.append("__init__")
    return "/".join(parts) + ".py"


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of ``package`` under ``root``, by dotted name."""
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def imports(known: dict[str, Path], first_party: tuple[str, ...]) -> Iterator[Import]:
    """Each first-party import in ``known``, resolved to the module it loads."""

    def resolve(name: str) -> str:
        while name not in known and "." in name:
            name = name.rpartition(".")[0]
        return name

    for module, path in known.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        guarded = _type_checking_lines(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [resolve(alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                # ``from continuum import payloads`` loads the submodule, not the facade
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in known else resolve(base)
                    for a in node.names
                ]
            else:
                continue
            for target in dict.fromkeys(targets):
                if target.split(".")[0] in first_party:
                    yield Import(module, target, path, node.lineno, node.lineno in guarded)


def _names(name: str, module: str) -> bool:
    return module == name or ("." in name and module.startswith(name + "."))


def layer_of(module: str) -> int | None:
    """Index in :data:`LAYERS` of the longest name that is ``module`` or its package."""
    best: tuple[int, int] | None = None
    for index, names in enumerate(LAYERS):
        for name in names:
            if _names(name, module) and (best is None or len(name) > best[1]):
                best = (index, len(name))
    return None if best is None else best[0]


def _placement(module: str) -> str | None:
    """The :data:`LAYERS` name that places ``module``."""
    index = layer_of(module)
    if index is None:
        return None
    names = [n for n in LAYERS[index] if _names(n, module)]
    return max(names, key=len)


def violations(known: dict[str, Path], first_party: tuple[str, ...]) -> list[str]:
    """Every import that breaks the layer order, as ``file:line: what``."""
    problems: list[str] = []
    for module in known:
        if layer_of(module) is None:
            where = source_name(module, known[module])
            problems.append(f"{where}:1: module {module} is in no layer; add it to LAYERS")
    for imp in imports(known, first_party):
        top = imp.target.split(".")[0]
        if top != "continuum":
            lowest = OTHER_PACKAGES.get(top)
            if lowest is not None and (layer_of(imp.importer) or 0) < (layer_of(lowest) or 0):
                problems.append(
                    f"{imp.where()}: {imp.importer} imports {imp.target}, which only layers "
                    f"from {lowest} up may use"
                )
            continue
        for one, other in INDEPENDENT:
            for a, b in ((one, other), (other, one)):
                if _names(a, imp.importer) and _names(b, imp.target):
                    problems.append(
                        f"{imp.where()}: {imp.importer} imports {imp.target} ({a} and {b} "
                        "are independent)"
                    )
        mine, theirs = layer_of(imp.importer), layer_of(imp.target)
        if mine is None or theirs is None:
            continue
        upward = theirs > mine
        sibling = theirs == mine and _placement(imp.importer) != _placement(imp.target)
        if upward or sibling:
            kind = "an upper layer" if upward else "a sibling in its layer"
            problems.append(
                f"{imp.where()}: {imp.importer} imports {imp.target} ({kind}: "
                f"{_placement(imp.target)} vs {_placement(imp.importer)})"
            )
    return problems


def cycles(known: dict[str, Path], first_party: tuple[str, ...]) -> list[list[str]]:
    """Groups of modules that import each other in a circle at run time."""
    graph: dict[str, set[str]] = {m: set() for m in known}
    for imp in imports(known, first_party):
        if not imp.type_checking and imp.target in graph and imp.target != imp.importer:
            graph[imp.importer].add(imp.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for succ in graph[node]:
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            group: list[str] = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


FIRST_PARTY = ("continuum", "continuum_codegen", "continuum_lint", "continuum_pyproject")


def test_continuum_follows_the_layer_order() -> None:
    problems = violations(modules(ROOT, "continuum"), FIRST_PARTY)
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_no_import_cycles_in_continuum() -> None:
    assert cycles(modules(ROOT, "continuum"), FIRST_PARTY) == []


@pytest.mark.parametrize(
    ("package", "may_use"),
    [
        ("continuum_pyproject", ()),
        ("continuum_lint", ("continuum_pyproject",)),
    ],
)
def test_lint_and_the_pyproject_reader_import_no_runtime(
    package: str, may_use: tuple[str, ...]
) -> None:
    known = modules(ROOT, package)
    bad = [
        f"{imp.where()}: {imp.importer} imports {imp.target}"
        for imp in imports(known, FIRST_PARTY)
        if imp.target.split(".")[0] not in (package, *may_use)
    ]
    assert not bad, f"{package} must stay importable without the runtime:\n" + "\n".join(bad)


def _package(root: Path, files: dict[str, str]) -> dict[str, Path]:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return modules(root, "continuum")


def test_the_check_reports_upward_sibling_lazy_unplaced_and_dependent_imports(
    tmp_path: Path,
) -> None:
    known = _package(
        tmp_path,
        {
            "continuum/__init__.py": "",
            "continuum/errors.py": "",
            "continuum/engine/__init__.py": "",
            "continuum/engine/api.py": "from continuum.errors import X\n\n"
            "def f():\n    from continuum.client import Client\n",
            "continuum/client/__init__.py": "from continuum import errors\n",
            "continuum/client/base.py": "from continuum.runtime.worker import W\n",
            "continuum/runtime/__init__.py": "",
            "continuum/runtime/worker.py": "",
            "continuum/ops/gc.py": "import continuum.testing.env\n",
            "continuum/testing/env.py": "",
            "continuum/definitions/versions.py": "from continuum_codegen.manifest import M\n",
            "continuum/stray.py": "",
        },
    )
    problems = violations(known, FIRST_PARTY)
    assert any(p.startswith("continuum/engine/api.py:4: ") and "upper layer" in p for p in problems)
    assert any(p.startswith("continuum/ops/gc.py:1: ") and "sibling" in p for p in problems)
    assert any(
        p.startswith("continuum/definitions/versions.py:1: ") and "continuum_codegen" in p
        for p in problems
    )
    assert any("continuum.stray is in no layer" in p for p in problems)
    assert any(
        p.startswith("continuum/client/base.py:1: ") and "independent" in p for p in problems
    )
    assert len(problems) == 5  # the downward imports (errors, the submodule) are fine


def test_the_check_finds_cycles_but_not_type_checking_ones(tmp_path: Path) -> None:
    known = _package(
        tmp_path,
        {
            "continuum/__init__.py": "",
            "continuum/db/__init__.py": "",
            "continuum/db/a.py": "from continuum.db import b\n",
            "continuum/db/b.py": "def f():\n    from continuum.db.a import x\n",
            "continuum/db/c.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from continuum.db.d import y\n",
            "continuum/db/d.py": "from continuum.db.c import z\n",
        },
    )
    assert cycles(known, FIRST_PARTY) == [["continuum.db.a", "continuum.db.b"]]


@pytest.mark.parametrize(
    ("module", "layer"),
    [
        ("continuum.runtime.worker", "continuum.runtime.worker"),
        ("continuum.runtime.attempt", "continuum.runtime"),
        ("continuum", "continuum"),
        ("continuum.current_run", "continuum.current_run"),
    ],
)
def test_the_longest_name_places_a_module(module: str, layer: str) -> None:
    assert _placement(module) == layer


def test_codegen_uses_only_lint_the_reader_and_the_definitions_layer() -> None:
    """Codegen sits below ``continuum.ops`` and the CLI (which import it): it may read the
    manifest format and the error root, never the operator queries, runtime or client."""
    allowed = ("continuum_codegen", "continuum_lint", "continuum_pyproject")
    allowed_continuum = ("continuum.errors", "continuum.definitions")
    bad: list[str] = []
    for path in sorted((ROOT / "continuum_codegen").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom) and not node.level
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                top = name.split(".")[0]
                below = any(name == a or name.startswith(a + ".") for a in allowed_continuum)
                if top in FIRST_PARTY and top not in allowed and not below:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: imports {name}")
    assert not bad, "continuum_codegen reaches above its layer:\n" + "\n".join(bad)
