"""Generated V_<hash> modules import cleanly and run the code they froze."""

from __future__ import annotations

import importlib
import inspect
import types
from collections.abc import Callable
from pathlib import Path

import pytest

from continuum_codegen import build

WriteProject = Callable[..., Path]  # the write_project fixture (conftest.py)

MODELS = """\
class Order:
    def __init__(self, n):
        self.n = n
"""

FLOWS = '''\
"""Order flows."""

from __future__ import annotations

import continuum
from continuum import workflow as wf

from .models import Order

GREETING = "hello"


@continuum.activity
def send(text):
    return f"sent:{text}"


def compose(order: Order) -> str:
    """Build the text."""
    return f"{GREETING} #{order.n}"


def unused(x):
    return x


@wf(version=1)
def greet(order: Order) -> str:
    # a comment inside the body is kept verbatim
    if continuum.patched("short"):
        return send(compose(order))

    return send(compose(order).upper())
'''


def _project(write_project: WriteProject, flows: str = FLOWS) -> Path:
    return write_project(
        {"myapp/__init__.py": "", "myapp/models.py": MODELS, "myapp/flows.py": flows}
    )


def _import(name: str) -> types.ModuleType:
    importlib.invalidate_caches()
    return importlib.import_module(name)


@pytest.mark.usefixtures("importable")
def test_frozen_module_imports_and_registers_as_frozen(
    write_project: WriteProject, stub_continuum: types.ModuleType
) -> None:
    root = _project(write_project)
    item = build(root).workflows[0]
    source = _import("myapp.flows")
    frozen = _import(item.entrypoint)

    assert frozen.__continuum_frozen__ == item.hash
    assert frozen.__continuum_workflow__ == "myapp.flows:greet"
    assert frozen.__continuum_source_module__ == "myapp.flows"
    assert stub_continuum.registered == [("greet", None), ("greet", item.hash)]
    assert inspect.getsource(frozen.greet) == inspect.getsource(source.greet)
    assert inspect.getsource(frozen.compose) == inspect.getsource(source.compose)
    assert frozen.greet(source.Order(7)) == source.greet(source.Order(7)) == "sent:hello #7"


@pytest.mark.usefixtures("importable")
def test_frozen_module_copies_reached_code_and_imports_the_rest(
    write_project: WriteProject, stub_continuum: types.ModuleType
) -> None:
    root = _project(write_project)
    item = build(root).workflows[0]
    source = _import("myapp.flows")
    frozen = _import(item.entrypoint)
    text = (root / "myapp" / "_continuum" / f"V_{item.hash}.py").read_text()

    assert frozen.compose is not source.compose
    assert frozen.compose.__globals__ is frozen.__dict__
    assert frozen.send is source.send
    assert frozen.Order is source.Order
    assert "def unused" not in text
    assert "from myapp.models import Order" in text
    assert "from myapp.flows import send" in text
    assert text.index("__continuum_frozen__") < text.index("def greet")
    assert text.index("from __future__ import annotations") < text.index("__continuum_frozen__")


@pytest.mark.usefixtures("importable")
def test_old_frozen_version_keeps_running_old_code_after_an_edit(
    write_project: WriteProject, stub_continuum: types.ModuleType
) -> None:
    root = _project(write_project)
    v1 = build(root).workflows[0]
    _project(write_project, FLOWS.replace('GREETING = "hello"', 'GREETING = "bye"'))
    v2 = build(root).workflows[0]
    source = _import("myapp.flows")
    old = _import(v1.entrypoint)
    new = _import(v2.entrypoint)

    order = source.Order(1)
    assert old.greet(order) == "sent:hello #1"
    assert new.greet(order) == source.greet(order) == "sent:bye #1"


def _real_continuum() -> types.ModuleType:
    continuum = pytest.importorskip("continuum")
    if not all(hasattr(continuum, n) for n in ("workflow", "activity", "patched")):
        pytest.skip("continuum.workflow/activity/patched are not available yet")
    return continuum


@pytest.mark.usefixtures("importable")
def test_real_decorator_registers_the_frozen_copy_under_its_hash(
    write_project: WriteProject,
) -> None:
    _real_continuum()
    root = _project(write_project)
    item = build(root).workflows[0]
    frozen = _import(item.entrypoint)
    assert frozen.__continuum_frozen__ == item.hash
    assert frozen.greet.frozen_hash == item.hash


@pytest.mark.usefixtures("importable")
def test_real_decorator_keeps_the_source_logical_name_for_frozen_copies(
    write_project: WriteProject,
) -> None:
    _real_continuum()
    root = _project(write_project)
    item = build(root).workflows[0]
    frozen = _import(item.entrypoint)
    assert frozen.greet.name == "myapp.flows:greet"
