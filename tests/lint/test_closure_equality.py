"""The closure the scanner checks is exactly the closure codegen hashes.

For every workflow of the lint corpus, the shipped examples and a multi-module project,
codegen's hash members (functions and methods; constants are values, not code) must be
the members the scanner walked, plus those it deliberately left unchecked because they
only reach the workflow through ``continuum.side_effect`` (journaled, run once).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from continuum_codegen.discover import discover
from continuum_codegen.errors import CodegenError
from continuum_codegen.hashing import hash_workflow
from continuum_codegen.modules import ModuleCache, search_roots
from continuum_lint import Scanner
from tests.lint.corpus import all_cases

ROOT = Path(__file__).resolve().parents[2]


def _hashed(module: str, root: Path) -> dict[str, set[str]]:
    """Workflow key → keys of the code members its hash covers."""
    cache = ModuleCache(search_roots(root))
    hashed: dict[str, set[str]] = {}
    for workflow in discover([module], cache):
        result = hash_workflow(workflow, cache)
        key = f"{workflow.module}:{workflow.qualname}"
        hashed[key] = {m.key for m in result.members if m.kind != "constant"}
    return hashed


def _checked(scanner: Scanner) -> dict[str, set[str]]:
    """Workflow key → keys of the members the scanner walked or recorded as journaled."""
    checked: dict[str, set[str]] = {}
    for _, root in scanner.roots:
        if root.kind == "workflow":
            walked, journaled = scanner.coverage.closure_of(root.key, scanner.model)
            checked[root.key] = walked | journaled
    return checked


def _compare(source_file: Path, module: str, root: Path) -> tuple[int, list[str]]:
    scanner = Scanner()
    scanner.scan_source(source_file.read_text(encoding="utf-8"), str(source_file))
    checked = _checked(scanner)
    hashed = _hashed(module, root)
    problems = []
    if set(checked) != set(hashed):
        problems.append(f"{module}: workflows differ: checked {checked} hashed {hashed}")
    for key in set(checked) & set(hashed):
        if checked[key] != hashed[key]:
            problems.append(
                f"{key}: checked {sorted(checked[key])} != hashed {sorted(hashed[key])}"
            )
    return len(hashed), problems


def test_over_the_whole_lint_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    workflows = 0
    compared = 0
    problems: list[str] = []
    for index, case in enumerate(all_cases()):
        if "CNT100" in case.codes:
            continue
        name = f"case_{index}"
        file = tmp_path / f"{name}.py"
        file.write_text(case.source, encoding="utf-8")
        try:
            count, found = _compare(file, name, tmp_path)
        except CodegenError:
            continue  # e.g. a non-literal name= that codegen refuses (the scanner reports it)
        workflows += count
        compared += 1
        problems.extend(f"{case.id}: {p}" for p in found)
    assert compared >= 900 and workflows >= 900
    assert problems == []


def test_over_the_examples() -> None:
    count, problems = _compare(
        ROOT / "continuum/examples/orders/flows.py", "continuum.examples.orders.flows", ROOT
    )
    assert count == 3
    assert problems == []
    count, problems = _compare(
        ROOT / "examples/hello_cancellation/flows.py", "hello_cancellation.flows", ROOT / "examples"
    )
    assert count >= 1
    assert problems == []


def test_over_the_clean_workflow_corpus() -> None:
    corpus = ROOT / "tests/lint/clean_corpus"
    workflows = 0
    problems: list[str] = []
    for path in sorted(corpus.glob("*.py")):
        if path.stem == "__init__":
            continue
        count, found = _compare(path, f"tests.lint.clean_corpus.{path.stem}", ROOT)
        workflows += count
        problems.extend(found)
    assert workflows >= 30
    assert problems == []


PROJECT = {
    "app/__init__.py": "",
    "app/helpers.py": (
        "import continuum\n\n\ndef _scale(x: int) -> int:\n    return x * 3\n\n\n"
        "@continuum.pure\ndef price(x: int) -> int:\n    return _scale(x) + 1\n"
    ),
    "app/api.py": "from app.helpers import price\n",
    "app/flows.py": (
        "from __future__ import annotations\n\nimport dataclasses\nimport uuid\n\n"
        "import continuum\nfrom app import api\n\n\n"
        "@dataclasses.dataclass\nclass Sub:\n    cycle: int\n\n"
        "    def next_cycle(self) -> Sub:\n        return Sub(self.cycle + 1)\n\n\n"
        "def make_id() -> str:\n    return str(uuid.uuid4())\n\n\n"
        "def double(x: int) -> int:\n    return 2 * x\n\n\n"
        "ORDER = double\n\n\n"
        "@continuum.workflow\ndef flow(sub: Sub) -> int:\n"
        "    ident = continuum.side_effect(make_id)\n"
        "    nxt = sub.next_cycle()\n"
        "    return api.price(nxt.cycle) + sorted([len(ident), 1], key=ORDER)[0]\n"
    ),
}


def test_over_a_project_with_pure_reexports_constants_and_side_effects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    scanner = Scanner()
    findings = scanner.scan_source(PROJECT["app/flows.py"], str(tmp_path / "app/flows.py"))
    assert findings == []  # sub.next_cycle() is followed, not CNT218; make_id is journaled
    walked, journaled = scanner.coverage.closure_of("app.flows:flow", scanner.model)
    assert walked == {
        "app.flows:flow",
        "app.flows:Sub.next_cycle",
        "app.flows:double",
        "app.helpers:price",
        "app.helpers:_scale",
    }
    assert journaled == {"app.flows:make_id"}
    _, problems = _compare(tmp_path / "app/flows.py", "app.flows", tmp_path)
    assert problems == []


def test_a_helper_outside_the_closure_is_reported_not_silently_passed() -> None:
    source = (
        "import sys\nimport continuum\n\nif sys.version_info >= (3, 12):\n"
        "    def helper(x: int) -> int:\n        return x + 1\nelse:\n"
        "    def helper(x: int) -> int:\n        return x + 2\n\n\n"
        "@continuum.workflow\ndef flow(x: int) -> int:\n    return helper(x)\n"
    )
    scanner = Scanner()
    (finding,) = scanner.scan_source(source, "twice.py")
    assert (finding.code, finding.line) == ("CNT213", 14)
    assert "the version hash does not cover it" in finding.message
    walked, journaled = scanner.coverage.closure_of("twice:flow", scanner.model)
    assert (walked, journaled) == ({"twice:flow"}, set())
