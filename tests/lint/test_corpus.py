"""The generated corpus: each case produces exactly its expected codes."""

from __future__ import annotations

from collections import Counter

import pytest

from continuum_lint import scan_source
from continuum_lint.rules import ALL_RULES
from tests.lint.corpus import Case, all_cases

CASES = all_cases()


def test_corpus_has_at_least_200_cases_across_every_rule() -> None:
    assert len(CASES) >= 200
    for rule in ALL_RULES:
        assert rule.VALID, f"{rule.NAME} has no VALID examples"
        assert rule.INVALID, f"{rule.NAME} has no INVALID examples"


def test_every_documented_code_has_an_invalid_example() -> None:
    documented = {doc.code for rule in ALL_RULES for doc in rule.CODES}
    produced = {code for case in CASES for code in case.codes}
    # CNT100 (parse errors) and CNT113 (needs untrusted_call_severity = "error") are
    # covered in test_scanner.py.
    assert documented - produced <= {"CNT100", "CNT113"}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_case_produces_exactly_its_expected_codes(case: Case) -> None:
    findings = scan_source(case.source, "case.py")
    assert Counter(f.code for f in findings) == Counter(case.codes), [f.format() for f in findings]
    for finding in findings:
        assert "; " in finding.message, "every message carries a remediation hint"
