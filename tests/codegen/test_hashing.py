"""Workflow hashes ignore layout and change with any change to the code a workflow runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from continuum_codegen import SCHEME, build
from continuum_codegen.discover import discover
from continuum_codegen.hashing import hash_input, hash_workflow
from continuum_codegen.modules import ModuleCache, search_roots

WriteProject = Callable[..., Path]  # the write_project fixture (conftest.py)

BASE = """\
import continuum
from myapp.helpers import double

TAX = 3
RATES = {"std": TAX * 2}


class Pricing:
    @staticmethod
    def round(value):
        return value // 10 * 10


def inner(a):
    return a * RATES["std"]


def helper(a):
    return inner(a) + TAX


def unrelated(a):
    return a - 1


@continuum.activity
def charge(amount):
    return amount + 100


@continuum.workflow(version=1)
def order_flow(order):
    total = helper(order["n"])
    total = Pricing.round(double(total))
    return {"total": charge(total), "label": "done"}
"""

HELPERS = """\
import continuum

FACTOR = 2


@continuum.pure
def double(x):
    return x * FACTOR
"""


def _hash(write_project: WriteProject, flows: str, helpers: str = HELPERS) -> str:
    root = write_project(
        {"myapp/__init__.py": "", "myapp/flows.py": flows, "myapp/helpers.py": helpers}
    )
    (item,) = build(root, check=True).workflows
    return item.hash


@pytest.fixture
def base_hash(write_project: WriteProject) -> str:
    return _hash(write_project, BASE)


def test_hash_is_16_hex_chars_prefix_of_scheme_tagged_sha256(write_project: WriteProject) -> None:
    root = write_project(
        {"myapp/__init__.py": "", "myapp/flows.py": BASE, "myapp/helpers.py": HELPERS}
    )
    cache = ModuleCache(search_roots(root))
    (workflow,) = discover(["myapp.flows"], cache)
    result = hash_workflow(workflow, cache)
    text = hash_input(workflow, result.members)
    assert text.startswith(f"{SCHEME}\n")
    assert len(result.hash) == 16
    assert result.digest.startswith(result.hash)
    assert int(result.hash, 16) >= 0


def test_hash_closure_lists_helpers_constants_methods_and_pure_but_not_activities(
    write_project: WriteProject,
) -> None:
    root = write_project(
        {"myapp/__init__.py": "", "myapp/flows.py": BASE, "myapp/helpers.py": HELPERS}
    )
    cache = ModuleCache(search_roots(root))
    (workflow,) = discover(["myapp.flows"], cache)
    keys = {(m.kind, m.key) for m in hash_workflow(workflow, cache).members}
    assert keys == {
        ("workflow", "myapp.flows:order_flow"),
        ("function", "myapp.flows:helper"),
        ("function", "myapp.flows:inner"),
        ("constant", "myapp.flows:TAX"),
        ("constant", "myapp.flows:RATES"),
        ("method", "myapp.flows:Pricing.round"),
        ("pure", "myapp.helpers:double"),
        ("constant", "myapp.helpers:FACTOR"),
    }


@pytest.mark.parametrize(
    ("label", "old", "new"),
    [
        (
            "comment",
            '    total = helper(order["n"])\n',
            '    # why\n    total = helper(order["n"])  # note\n',
        ),
        ("docstring", "def order_flow(order):\n", 'def order_flow(order):\n    """Docs."""\n'),
        ("helper docstring", "def helper(a):\n", "def helper(a):\n    '''Helper docs.'''\n"),
        ("blank lines", "    total = Pricing", "\n\n    total = Pricing"),
        ("quotes", '"label": "done"', "'label': 'done'"),
        ("parentheses", 'return a * RATES["std"]', 'return (a * RATES["std"])'),
        (
            "trailing comma",
            'return {"total": charge(total), "label": "done"}',
            'return {\n        "total": charge(total),\n        "label": "done",\n    }',
        ),
        (
            "one-line def",
            'def inner(a):\n    return a * RATES["std"]',
            "def inner(a): return a * RATES['std']",
        ),
        (
            "semicolons",
            '    total = helper(order["n"])\n    total = Pricing',
            '    total = helper(order["n"]); total = Pricing',
        ),
        ("numeric spelling", "TAX = 3", "TAX = 0x3"),
        ("unreached function", "return a - 1", "return a - 2"),
        ("activity body", "return amount + 100", "return amount + 200"),
    ],
)
def test_layout_and_unreached_code_do_not_change_hash(
    write_project: WriteProject, base_hash: str, label: str, old: str, new: str
) -> None:
    assert old in BASE, label
    assert _hash(write_project, BASE.replace(old, new)) == base_hash


@pytest.mark.parametrize(
    ("label", "old", "new"),
    [
        ("workflow body", '"label": "done"', '"label": "shipped"'),
        ("workflow statement added", "    return {", "    total += 1\n    return {"),
        ("helper body", "return inner(a) + TAX", "return inner(a) - TAX"),
        ("helper of helper", 'return a * RATES["std"]', 'return a * RATES["std"] + 1'),
        ("constant value", "TAX = 3", "TAX = 4"),
        ("constant read by constant", "TAX * 2", "TAX * 3"),
        ("decorator argument", "@continuum.workflow(version=1)", "@continuum.workflow(version=2)"),
        ("class method body", "value // 10 * 10", "value // 100 * 100"),
    ],
)
def test_changes_to_executed_code_change_hash(
    write_project: WriteProject, base_hash: str, label: str, old: str, new: str
) -> None:
    assert old in BASE, label
    assert _hash(write_project, BASE.replace(old, new)) != base_hash


def test_cross_module_pure_helper_body_change_changes_hash(
    write_project: WriteProject, base_hash: str
) -> None:
    assert _hash(write_project, BASE, HELPERS.replace("x * FACTOR", "x * FACTOR + 1")) != base_hash


def test_cross_module_pure_helper_constant_change_changes_hash(
    write_project: WriteProject, base_hash: str
) -> None:
    assert _hash(write_project, BASE, HELPERS.replace("FACTOR = 2", "FACTOR = 5")) != base_hash


def test_cross_module_helper_without_pure_is_not_hashed(write_project: WriteProject) -> None:
    plain = HELPERS.replace("@continuum.pure\n", "")
    before = _hash(write_project, BASE, plain)
    assert _hash(write_project, BASE, plain.replace("x * FACTOR", "x * FACTOR + 1")) == before


def test_pure_helper_reached_through_module_alias_and_reexport(write_project: WriteProject) -> None:
    flows = """\
    import continuum
    from myapp import api
    import myapp.helpers as h


    @continuum.workflow
    def flow(x):
        return api.double(x) + h.double(x)
    """
    files = {
        "myapp/__init__.py": "",
        "myapp/flows.py": flows,
        "myapp/helpers.py": HELPERS,
        "myapp/api.py": "from myapp.helpers import double\n",
    }
    root = write_project(files)
    before = build(root, check=True).workflows[0].hash
    write_project({"myapp/helpers.py": HELPERS.replace("x * FACTOR", "x + FACTOR")})
    assert build(root, check=True).workflows[0].hash != before


def test_relative_import_of_pure_helper_is_resolved(write_project: WriteProject) -> None:
    flows = BASE.replace("from myapp.helpers import double", "from .helpers import double")
    before = _hash(write_project, flows)
    assert _hash(write_project, flows, HELPERS.replace("x * FACTOR", "x * 3")) != before


def test_shadowing_local_does_not_pull_in_module_constant(write_project: WriteProject) -> None:
    flows = """\
    import continuum

    LIMIT = 10


    @continuum.workflow
    def flow(LIMIT):
        return [LIMIT for LIMIT in range(LIMIT)]
    """
    before = _hash(write_project, flows)
    assert _hash(write_project, flows.replace("LIMIT = 10", "LIMIT = 11")) == before


def test_same_code_in_two_workflows_hashes_differently(write_project: WriteProject) -> None:
    flows = """\
    import continuum


    @continuum.workflow
    def first(x):
        return x


    @continuum.workflow
    def second(x):
        return x
    """
    root = write_project({"myapp/__init__.py": "", "myapp/flows.py": flows})
    hashes = {w.hash for w in build(root, check=True).workflows}
    assert len(hashes) == 2


def test_hash_does_not_depend_on_project_location(
    tmp_path: Path, write_project: WriteProject
) -> None:
    files = {"myapp/__init__.py": "", "myapp/flows.py": BASE, "myapp/helpers.py": HELPERS}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = write_project(files, root=tmp_path / "a")
    two = write_project(files, root=tmp_path / "b")
    assert build(one, check=True).workflows[0].hash == build(two, check=True).workflows[0].hash


MODEL_INPUT = """\
from __future__ import annotations

import continuum
from pydantic import BaseModel


class Subscription(BaseModel):
    cycle: int = 0

    def next_cycle(self) -> Subscription:
        return Subscription(cycle=self.cycle + 1)


@continuum.workflow
def renew(sub: Subscription) -> int:
    return sub.next_cycle().cycle
"""


def test_method_called_on_a_same_module_model_input_is_hashed(
    write_project: WriteProject,
) -> None:
    root = write_project({"myapp/__init__.py": "", "myapp/flows.py": MODEL_INPUT})
    cache = ModuleCache(search_roots(root))
    (workflow,) = discover(["myapp.flows"], cache)
    keys = {(m.kind, m.key) for m in hash_workflow(workflow, cache).members}
    assert keys == {
        ("workflow", "myapp.flows:renew"),
        ("method", "myapp.flows:Subscription.next_cycle"),
    }
    before = _hash(write_project, MODEL_INPUT)
    after = _hash(write_project, MODEL_INPUT.replace("self.cycle + 1", "self.cycle + 2"))
    assert before != after
