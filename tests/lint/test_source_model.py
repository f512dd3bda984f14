"""The source model on its own: pruning, scopes, discovery, effect graphs."""

from __future__ import annotations

import ast
from pathlib import Path

from continuum_lint.source.closure import closure, root_member
from continuum_lint.source.discover import roots_in, workflows_in
from continuum_lint.source.effects import effect_graph
from continuum_lint.source.modules import ModuleCache, parse_source
from continuum_lint.source.prune import prune
from continuum_lint.source.scopes import reads_of

SOURCE = '''\
import continuum
from continuum import workflow as wf

LIMIT = 3


def unused(a: int) -> int:
    return a


def helper(a: int) -> int:
    return a + LIMIT


class Model:
    pass


@wf(name="demo.Flow")
def flow(x: int) -> int:
    """Docs."""
    y = helper(x)
    continuum.sleep(1)
    if continuum.patched("p1"):
        continuum.wait_signal("go")
    return y
'''


def _model(source: str = SOURCE) -> tuple[ModuleCache, object]:
    cache = ModuleCache([Path.cwd()])
    src = parse_source("demo", Path("demo.py"), False, source)
    cache.add(src)
    return cache, src


def test_prune_blanks_unreachable_definitions_and_keeps_line_numbers() -> None:
    pruned = prune(SOURCE, ast.parse(SOURCE))
    assert pruned.count("\n") == SOURCE.count("\n")
    assert "def unused" not in pruned and "class Model" not in pruned
    assert "def helper" in pruned and "LIMIT = 3" in pruned and "def flow" in pruned
    for kept, original in zip(pruned.splitlines(), SOURCE.splitlines(), strict=True):
        assert kept in ("", original)


def test_alias_decorator_is_a_workflow_with_its_literal_name() -> None:
    _, src = _model()
    (found,) = workflows_in(src)  # type: ignore[arg-type]
    assert (found.name, found.qualname) == ("demo.Flow", "flow")
    assert [(n.name.value, k) for n, k in roots_in(src)] == [("flow", "workflow")]  # type: ignore[arg-type]


def test_closure_and_effect_graph_with_command_identities() -> None:
    cache, src = _model()
    (found,) = workflows_in(src)  # type: ignore[arg-type]
    graph = closure(root_member(src, found.node, "workflow"), cache)  # type: ignore[arg-type]
    assert graph.code_keys() == {"demo:flow", "demo:helper"}
    assert set(graph.members) == {"demo:flow", "demo:helper", "demo:LIMIT"}
    effects = [(e.api, e.target, e.function, e.offset, e.line) for e in effect_graph(graph)]
    assert effects == [
        ("sleep", None, "flow", 4, 23),
        ("patched", "p1", "flow", 5, 24),
        ("wait_signal", "go", "flow", 6, 25),
    ]


def test_reads_respect_local_scopes_and_rebound_parameters() -> None:
    source = (
        "import continuum\nX = 1\n\ndef f(p: int, q: int) -> int:\n"
        "    X = 2\n    q = 3\n    g = lambda X: X\n"
        "    return p.real + q.real + X + [Y for Y in (1,)][0]\n"
    )
    src = parse_source("m", Path("m.py"), False, source)
    reads = reads_of(src.functions["f"], set(src.bindings))
    assert reads.globals == []  # X is local in f and in the lambda; int is a builtin
    module_level = reads_of(src.functions["f"], None)
    assert [r.name for r in module_level.globals] == ["int", "int", "int"]
    assert [(r.name, r.attr) for r in reads.param_attributes] == [("p", "real")]


def test_a_constant_rebound_through_global_is_not_a_constant() -> None:
    source = (
        "import continuum\nCOUNT = 0\nLIMIT = 5\n\n\ndef bump() -> None:\n"
        "    global COUNT\n    COUNT += 1\n\n\ndef peek() -> int:\n    global LIMIT\n"
        "    return LIMIT\n"
    )
    src = parse_source("g", Path("g.py"), False, source)
    assert src.binding_count("COUNT") == 2 and "COUNT" not in src.constants
    assert src.binding_count("LIMIT") == 1 and "LIMIT" in src.constants


def test_a_recursive_helper_reads_itself_from_module_scope() -> None:
    source = (
        "import continuum\n\n\ndef walk(n: int) -> int:\n"
        "    return 0 if n == 0 else walk(n - 1)\n\n\n"
        "@continuum.workflow\ndef flow(n: int) -> int:\n    return walk(n)\n"
    )
    src = parse_source("r", Path("r.py"), False, source)
    assert [r.name for r in reads_of(src.functions["walk"], set(src.bindings)).globals] == ["walk"]
