"""``continuum lint --fix``: generated from the rules' ``expected_fix`` examples and the
rewrite catalogue, plus the properties every fix keeps (idempotent, lint-clean for the
fixed codes, comments kept, nothing outside workflow/@pure code touched)."""

from __future__ import annotations

import ast
from collections import Counter

import pytest

from continuum_lint import scan_source
from continuum_lint.config import Config
from continuum_lint.fix import FIXABLE_CODES, fix_source
from continuum_lint.fix.catalog import REWRITES, SET_REWRITES, Rewrite
from continuum_lint.fix.files import fix_text
from continuum_lint.rules import ALL_RULES
from continuum_lint.rules.base import Invalid
from tests.lint.corpus import Case, all_cases

INVALID = [
    pytest.param(invalid, id=f"{rule.NAME}-invalid-{i}")
    for rule in ALL_RULES
    for i, invalid in enumerate(rule.INVALID)
]
VALID = [
    pytest.param(source, id=f"{rule.NAME}-valid-{i}")
    for rule in ALL_RULES
    for i, source in enumerate(rule.VALID)
]


def _fix(source: str) -> str:
    return fix_source(source, scan_source(source, "case.py"), "case.py").source


def test_every_fixable_code_has_an_example_with_its_expected_fix() -> None:
    shown = {
        code
        for rule in ALL_RULES
        for invalid in rule.INVALID
        if invalid.expected_fix is not None
        for code in invalid.codes
    }
    assert shown >= FIXABLE_CODES


@pytest.mark.parametrize("invalid", INVALID)
def test_invalid_example_is_fixed_exactly_as_expected(invalid: Invalid) -> None:
    expected = invalid.source if invalid.expected_fix is None else invalid.expected_fix
    assert _fix(invalid.source) == expected


@pytest.mark.parametrize("invalid", INVALID)
def test_fixed_example_lints_clean_for_what_was_fixed_and_fixing_again_changes_nothing(
    invalid: Invalid,
) -> None:
    if invalid.expected_fix is None:
        return
    before = Counter(f.code for f in scan_source(invalid.source, "case.py"))
    after = Counter(f.code for f in scan_source(invalid.expected_fix, "case.py"))
    assert after < before, "the fix removes findings and adds none"
    assert _fix(invalid.expected_fix) == invalid.expected_fix


@pytest.mark.parametrize("source", VALID)
def test_valid_example_is_left_alone(source: str) -> None:
    assert _fix(source) == source


def _spellings(rewrite: Rewrite) -> list[tuple[str, str]]:
    """(imports, call) for the name written out, through a module alias and a from-import."""
    module, attr = rewrite.name.rsplit(".", 1)
    top = module.split(".")[0]
    args = rewrite.args
    parent_module, _, parent = module.rpartition(".")
    from_import = (
        (f"from {parent_module} import {parent} as Aliased\n", f"Aliased.{attr}({args})")
        if parent_module
        else (f"from {module} import {attr} as aliased\n", f"aliased({args})")
    )
    aliased_module = f"m{rewrite.name.replace('.', '_')}"
    return [
        (f"import {top}\n", f"{rewrite.name}({args})"),
        (
            f"import {top} as {aliased_module}\n",
            f"{aliased_module}{rewrite.name.removeprefix(top)}({args})",
        ),
        from_import,
    ]


CATALOGUE = [
    pytest.param(rewrite, imports, call, id=f"{rewrite.before}-{n}")
    for rewrite in REWRITES
    for n, (imports, call) in enumerate(_spellings(rewrite))
]


@pytest.mark.parametrize(("rewrite", "imports", "call"), CATALOGUE)
def test_catalogue_rewrite_applies_however_the_name_is_imported(
    rewrite: Rewrite, imports: str, call: str
) -> None:
    source = (
        f"{imports}import continuum\n\n\n@continuum.workflow\n"
        f"def flow(x: float) -> object:\n    return {call}  # keep me\n"
    )
    assert [f.code for f in scan_source(source, "case.py")] == [rewrite.code]
    fixed = _fix(source)
    assert fixed == (
        "import continuum\n\n\n@continuum.workflow\n"
        f"def flow(x: float) -> object:\n    return {rewrite.after}  # keep me\n"
    )
    assert scan_source(fixed, "case.py") == []


@pytest.mark.parametrize(("before", "after"), SET_REWRITES)
def test_set_iteration_rewrite(before: str, after: str) -> None:
    def flow(line: str) -> str:
        body = line if line.endswith(":") else f"out = {line}"
        tail = "\n        continuum.execute(f, t)" if line.endswith(":") else ""
        return (
            "import continuum\n\n\n@continuum.workflow\n"
            f"def flow(tags: frozenset[str]) -> None:\n    {body}{tail}\n"
        )

    assert [f.code for f in scan_source(flow(before), "case.py")] == ["CNT216"]
    assert _fix(flow(before)) == flow(after)


def test_comments_and_formatting_outside_the_rewrite_are_kept() -> None:
    source = (
        "# header comment\n"
        "import time   # the clock\n"
        "import continuum\n\n\n"
        "@continuum.workflow(version=2)\n"
        "def flow(x: int) -> float:\n"
        "    '''Docstring.'''\n"
        "    # before\n"
        "    a = time.time( )   # trailing\n"
        "    b = (\n"
        "        x  # why x\n"
        "        + 1\n"
        "    )\n"
        "    return a+b\n"
    )
    assert _fix(source) == (
        "# header comment\n"
        "import continuum\n\n\n"
        "@continuum.workflow(version=2)\n"
        "def flow(x: int) -> float:\n"
        "    '''Docstring.'''\n"
        "    # before\n"
        "    a = continuum.now().timestamp()   # trailing\n"
        "    b = (\n"
        "        x  # why x\n"
        "        + 1\n"
        "    )\n"
        "    return a+b\n"
    )


def test_a_rewrite_that_would_drop_a_comment_is_not_made() -> None:
    source = (
        "import time\nimport continuum\n\n\n@continuum.workflow\n"
        "def flow(x: int) -> float:\n    return time.time(  # the clock\n    )\n"
    )
    assert _fix(source) == source


def test_import_continuum_is_added_when_missing() -> None:
    source = (
        '"""Flows."""\n\nfrom __future__ import annotations\n\nimport uuid\n\n'
        "from continuum import workflow\n\n\n@workflow\ndef flow(x: int) -> str:\n"
        "    return str(uuid.uuid4())\n"
    )
    assert _fix(source) == (
        '"""Flows."""\n\nfrom __future__ import annotations\n\n'
        "from continuum import workflow\nimport continuum\n\n\n@workflow\n"
        "def flow(x: int) -> str:\n    return str(continuum.uuid4())\n"
    )


def test_imports_still_used_or_exported_are_kept() -> None:
    source = (
        "import time\nimport uuid\nimport continuum\n\n__all__ = ['uuid']\n\n\n"
        "@continuum.workflow\ndef flow(x: int) -> str:\n"
        "    return f'{time.time()} {uuid.uuid4()}'\n\n\n"
        "@continuum.activity\ndef stamp() -> float:\n    return time.time()\n"
    )
    assert _fix(source) == (
        "import time\nimport uuid\nimport continuum\n\n__all__ = ['uuid']\n\n\n"
        "@continuum.workflow\ndef flow(x: int) -> str:\n"
        "    return f'{continuum.now().timestamp()} {continuum.uuid4()}'\n\n\n"
        "@continuum.activity\ndef stamp() -> float:\n    return time.time()\n"
    )


def test_imports_are_kept_in_a_package_init() -> None:
    source = (
        "import uuid\nimport continuum\n\n\n@continuum.workflow\n"
        "def flow(x: int) -> str:\n    return str(uuid.uuid4())\n"
    )
    findings = scan_source(source, "pkg/__init__.py")
    assert fix_source(source, findings, "pkg/__init__.py").source == source.replace(
        "uuid.uuid4()", "continuum.uuid4()"
    )


def test_nothing_outside_workflow_and_pure_functions_is_rewritten() -> None:
    source = (
        "import time\nimport continuum\n\n\n"
        "def helper() -> float:\n    return time.time()\n\n\n"
        "@continuum.activity\ndef act() -> float:\n    return time.time()\n\n\n"
        "@continuum.pure\ndef stamp(x: int) -> float:\n    return x + time.time()\n\n\n"
        "@continuum.workflow\ndef flow(x: int) -> float:\n    return helper() + stamp(x)\n"
    )
    fixed = _fix(source)
    assert fixed == source.replace("x + time.time()", "x + continuum.now().timestamp()")
    # The helper's finding has no safe fix (it may also run outside workflows): reported.
    assert [f.code for f in scan_source(fixed, "case.py")] == ["CNT101"]


def test_noqa_suppressed_findings_are_not_fixed() -> None:
    source = (
        "import time\nimport continuum\n\n\n@continuum.workflow\n"
        "def flow(x: int) -> float:\n"
        "    a = time.time()  # noqa: CNT101\n"
        "    return a + time.time()\n"
    )
    result = fix_text(source, "case.py", Config())
    assert result.after == source.replace("a + time.time()", "a + continuum.now().timestamp()")
    assert [f.code for f in result.fixed] == ["CNT101"]
    assert result.remaining == ()


def test_shadowed_names_block_the_rewrite() -> None:
    source = (
        "import time\nimport continuum\n\n\n@continuum.workflow\n"
        "def flow(continuum: int) -> float:\n    return time.time()\n"
    )
    assert _fix(source) == source
    source = (
        "import continuum\n\n\n@continuum.workflow\n"
        "def flow(xs: set[str]) -> list[str]:\n"
        "    sorted = list\n    return [x for x in xs]\n"
    )
    assert _fix(source) == source


def test_unresolvable_aliases_are_reported_not_guessed() -> None:
    source = (
        "import datetime\nimport continuum\n\nD = datetime.datetime\n\n\n"
        "@continuum.workflow\ndef flow(x: int) -> object:\n    return D.now()\n"
    )
    assert [f.code for f in scan_source(source, "case.py")] == ["CNT101"]
    assert _fix(source) == source


def test_crlf_line_endings_are_kept() -> None:
    source = (
        "import uuid\r\nimport continuum\r\n\r\n\r\n@continuum.workflow\r\n"
        "def flow(x: int) -> str:\r\n    return str(uuid.uuid4())\r\n"
    )
    assert _fix(source) == (
        "import continuum\r\n\r\n\r\n@continuum.workflow\r\n"
        "def flow(x: int) -> str:\r\n    return str(continuum.uuid4())\r\n"
    )


def test_findings_of_other_files_are_ignored() -> None:
    source = (
        "import time\nimport continuum\n\n\n@continuum.workflow\n"
        "def flow(x: int) -> float:\n    return time.time()\n"
    )
    findings = scan_source(source, "other.py")
    assert fix_source(source, findings, "case.py").source == source


GENERATED = all_cases()


@pytest.mark.parametrize("case", GENERATED, ids=[c.id for c in GENERATED])
def test_fixing_any_corpus_case_is_safe_idempotent_and_removes_what_it_fixed(case: Case) -> None:
    result = fix_text(case.source, "case.py", Config())
    ast.parse(result.after)
    before = Counter(f.code for f in result.found)
    fixed = Counter(f.code for f in result.fixed)
    after = Counter(f.code for f in result.remaining)
    assert after == before - fixed, "a fix removes exactly its findings and adds none"
    assert set(fixed) <= FIXABLE_CODES
    assert fix_text(result.after, "case.py", Config()).after == result.after
