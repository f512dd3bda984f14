"""Generated lint cases: every rule's own examples, and every denylist name spelled
directly, through ``from ... import ... as``, and through an assignment alias."""

from __future__ import annotations

from dataclasses import dataclass

from continuum_lint.denylist import CATEGORIES, When
from continuum_lint.rules import ALL_RULES
from continuum_lint.trust import WORKFLOW_API


@dataclass(frozen=True)
class Case:
    """A source and the codes it must produce (empty for valid code)."""

    id: str
    source: str
    codes: tuple[str, ...]


def _workflow(imports: str, body: str) -> str:
    return (
        f"{imports}import continuum\n\n\n@continuum.workflow\ndef flow(x: int) -> object:\n{body}"
    )


def _call(name: str) -> tuple[str, str]:
    """(imports, expression that calls ``name``) for a fully qualified denylisted name."""
    if name.startswith("builtins."):
        return "", f"{name.removeprefix('builtins.')}"
    top = name.split(".", 1)[0]
    if "." not in name:
        return f"import {top}\n", f"{name}.probe"
    return f"import {top}\n", name


def rule_cases() -> list[Case]:
    """Each rule's VALID and INVALID examples."""
    cases: list[Case] = []
    for rule in ALL_RULES:
        for i, source in enumerate(rule.VALID):
            cases.append(Case(f"{rule.NAME}-valid-{i}", source, ()))
        for i, invalid in enumerate(rule.INVALID):
            cases.append(Case(f"{rule.NAME}-invalid-{i}", invalid.source, invalid.codes))
    return cases


def denylist_cases() -> list[Case]:
    """Every denylisted name: called, imported under an alias, and assigned to an alias."""
    cases: list[Case] = []
    for category in CATEGORIES:
        code = category.code
        for name in category.names:
            imports, expr = _call(name)
            args = "" if category.when is When.NO_ARGS else "x"
            cases.append(
                Case(f"call-{name}", _workflow(imports, f"    return {expr}({args})\n"), (code,))
            )
            if category.when is When.NO_ARGS:
                enough = ", ".join(["x"] * category.min_args)
                body = f"    return {expr}({enough})\n"
                cases.append(Case(f"enough-args-{name}", _workflow(imports, body), ()))
                continue
            if "." in name and not name.startswith("builtins."):
                module, attr = name.rsplit(".", 1)
                body = f"    return alias_of_{attr}(x)\n"
                source = _workflow(f"from {module} import {attr} as alias_of_{attr}\n", body)
                cases.append(Case(f"from-import-as-{name}", source, (code,)))
            body = f"    fn = {expr}\n    return fn(x)\n"
            # The assignment itself references the name as a value, which is reported too.
            cases.append(Case(f"assign-alias-{name}", _workflow(imports, body), (code, code)))
    return cases


def api_cases() -> list[Case]:
    """Every workflow-side API name is allowed, however it is imported."""
    cases: list[Case] = []
    for name in sorted(WORKFLOW_API):
        source = _workflow("", f"    return continuum.{name}(x)\n")
        cases.append(Case(f"api-{name}", source, ()))
        source = _workflow(f"from continuum import {name} as api\n", "    return api(x)\n")
        cases.append(Case(f"api-alias-{name}", source, ()))
    return cases


def all_cases() -> list[Case]:
    """The whole generated corpus."""
    return rule_cases() + denylist_cases() + api_cases()
