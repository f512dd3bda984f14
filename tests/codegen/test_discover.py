"""Workflow discovery reads decorators statically, whatever alias they are imported under."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from continuum_codegen.discover import discover
from continuum_codegen.errors import ModuleNotFound, SourceError
from continuum_codegen.modules import ModuleCache, search_roots

WriteProject = Callable[..., Path]  # the write_project fixture (conftest.py)

FLOWS = """\
import continuum
import continuum as c
from continuum import workflow as wf
from continuum import workflow


@continuum.workflow
def bare(x):
    return x


@continuum.workflow(version=2)
def called(x):
    return x


@wf
def aliased(x):
    return x


@c.workflow(name="orders.OrderFlow")
def module_alias_named(x):
    return x


@workflow(name="billing." "Invoice")
def from_import_named(x):
    return x


@continuum.activity
def not_a_workflow(x):
    return x


def plain(x):
    return x


class Holder:
    @continuum.workflow
    def method(self, x):
        return x
"""


def _names(write_project: WriteProject, flows: str) -> dict[str, str]:
    root = write_project({"myapp/__init__.py": "", "myapp/flows.py": flows})
    cache = ModuleCache(search_roots(root))
    return {w.qualname: w.name for w in discover(["myapp.flows"], cache)}


def test_discovers_every_spelling_of_the_workflow_decorator(write_project: WriteProject) -> None:
    assert _names(write_project, FLOWS) == {
        "bare": "myapp.flows:bare",
        "called": "myapp.flows:called",
        "aliased": "myapp.flows:aliased",
        "module_alias_named": "orders.OrderFlow",
        "from_import_named": "billing.Invoice",
    }


def test_a_local_decorator_named_workflow_is_not_a_workflow(write_project: WriteProject) -> None:
    flows = """\
    def workflow(fn):
        return fn


    @workflow
    def flow(x):
        return x
    """
    assert _names(write_project, flows) == {}


def test_discovery_does_not_import_the_module(write_project: WriteProject) -> None:
    flows = """\
    import continuum

    raise RuntimeError("imported!")


    @continuum.workflow
    def flow(x):
        return x
    """
    assert _names(write_project, flows) == {"flow": "myapp.flows:flow"}


def test_non_literal_name_is_a_source_error_with_location(write_project: WriteProject) -> None:
    flows = """\
    import continuum

    NAME = "x"


    @continuum.workflow(name=NAME)
    def flow(x):
        return x
    """
    with pytest.raises(SourceError, match=r"flows\.py:6: workflow name= must be a string literal"):
        _names(write_project, flows)


def test_duplicate_logical_names_are_rejected(write_project: WriteProject) -> None:
    flows = """\
    import continuum


    @continuum.workflow(name="same")
    def one(x):
        return x


    @continuum.workflow(name="same")
    def two(x):
        return x
    """
    with pytest.raises(SourceError, match=re.escape("'same' is already used by myapp.flows:one")):
        _names(write_project, flows)


def test_missing_module_is_reported_by_name(write_project: WriteProject) -> None:
    root = write_project({"myapp/__init__.py": ""})
    with pytest.raises(ModuleNotFound, match=re.escape("'myapp.nope'")):
        discover(["myapp.nope"], ModuleCache(search_roots(root)))


def test_syntax_error_is_a_one_line_source_error(write_project: WriteProject) -> None:
    with pytest.raises(SourceError, match=r"flows\.py:\d+:\d+: cannot parse"):
        _names(write_project, "def broken(:\n")
