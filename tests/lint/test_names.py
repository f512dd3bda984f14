"""The name resolver: imports, aliases and Python's scoping rules."""

from __future__ import annotations

import ast
import textwrap

import pytest

from continuum_lint import scan_source
from continuum_lint.denylist import Denylist
from continuum_lint.model import ModuleInfo


def _module(source: str) -> ModuleInfo:
    return ModuleInfo.parse(textwrap.dedent(source), "m.py", Denylist())


def _marked(info: ModuleInfo) -> list[ast.Call]:
    """The calls on lines ending in ``# <-``, in source order."""
    marked = {i + 1 for i, line in enumerate(info.lines) if line.rstrip().endswith("# <-")}
    calls = [n for n in ast.walk(info.tree) if isinstance(n, ast.Call) and n.lineno in marked]
    return sorted(calls, key=lambda c: (c.lineno, c.col_offset))


def _resolved(source: str) -> list[str | None]:
    """What each marked call's callee resolves to."""
    info = _module(source)
    return [info.resolve(call.func) for call in _marked(info)]


def _bound(source: str) -> list[str]:
    """How the head name of each marked call's callee is bound."""
    info = _module(source)
    heads = []
    for call in _marked(info):
        head = call.func
        while isinstance(head, ast.Attribute):
            head = head.value
        assert isinstance(head, ast.Name)
        heads.append(info.binding(head))
    return heads


def _codes(source: str) -> list[str]:
    return [f.code for f in scan_source(textwrap.dedent(source), "flows.py")]


def test_import_forms_and_aliases() -> None:
    source = """
        import os.path
        import xml.etree.ElementTree as ET
        from datetime import datetime as D
        from . import sibling
        from ..pkg.mod import helper as h

        os.path.join("a")  # <-
        ET.parse("f")  # <-
        D.now()  # <-
        sibling.run()  # <-
        h()  # <-
        len([])  # <-
        undefined_thing()  # <-
    """
    assert _resolved(source) == [
        "os.path.join",
        "xml.etree.ElementTree.parse",
        "datetime.datetime.now",
        ".sibling.run",
        "..pkg.mod.helper",
        "builtins.len",
        None,
    ]


def test_assignment_aliases_at_module_and_function_level() -> None:
    source = """
        import datetime
        import time

        D = datetime.datetime
        T = getattr(time, "time")

        def f():
            now = D.now
            now()  # <-
            T()  # <-
            (clock := time.monotonic)()  # <-
            clock()  # <-
    """
    assert _resolved(source) == [
        "datetime.datetime.now",
        "time.time",
        "time.monotonic",
        "time.monotonic",
    ]


def test_parameters_and_locals_shadow_imports() -> None:
    source = """
        import time

        def by_parameter(time):
            time.time()  # <-

        def by_local():
            time = FakeClock()
            time.time()  # <-

        def by_loop(clocks):
            for time in clocks:
                time.time()  # <-

        def by_with(open_clock):
            with open_clock() as time:
                time.time()  # <-

        def by_except():
            try:
                pass
            except Exception as time:
                time.time()  # <-

        def untouched():
            time.time()  # <-
    """
    assert _resolved(source) == [None, None, None, None, None, "time.time"]
    assert _bound(source) == ["param", "local", "local", "local", "local", "import"]


def test_nested_functions_see_enclosing_bindings_and_lambdas_have_their_own() -> None:
    source = """
        import time

        def outer(clock):
            def inner():
                clock.time()  # <-
                time.time()  # <-
            use = lambda time: time.time()  # <-
            return inner, use
    """
    assert _resolved(source) == [None, "time.time", None]
    assert _bound(source) == ["param", "import", "param"]


def test_class_bodies_are_invisible_from_their_methods() -> None:
    source = """
        import time

        class Clock:
            time = FakeClock()
            time.time()  # <-

            def tick(self):
                time.time()  # <-
    """
    assert _resolved(source) == [None, "time.time"]


def test_comprehension_scopes() -> None:
    source = """
        import time

        def f(clocks):
            [time.time() for time in clocks]  # <-
            [c for c in time.time()]  # <-
            [c for time in clocks for c in time.time()]  # <-
    """
    assert _resolved(source) == [None, "time.time", None]
    assert _bound(source) == ["local", "import", "local"]


def test_walrus_in_a_comprehension_binds_in_the_enclosing_function() -> None:
    source = """
        import time

        def f(xs):
            [(tick := time.monotonic) for x in xs]
            tick()  # <-
    """
    assert _resolved(source) == ["time.monotonic"]
    assert _bound(source) == ["local"]


def test_global_sends_bindings_to_the_module() -> None:
    source = """
        import time

        def install():
            global clock
            clock = time.time

        def use():
            clock()  # <-
    """
    assert _resolved(source) == ["time.time"]
    assert _bound(source) == ["module-value"]


def test_global_declaration_skips_enclosing_function_bindings() -> None:
    source = """
        import time

        def outer():
            time = FakeClock()
            def inner():
                global time
                time.time()  # <-
            return inner
    """
    assert _resolved(source) == ["time.time"]


def test_nonlocal_sends_bindings_to_the_enclosing_function() -> None:
    source = """
        import time

        def outer():
            clock = None
            def install():
                nonlocal clock
                clock = time.time
            install()
            clock()  # <-
    """
    # Two bindings of ``clock`` in ``outer`` now: neither alone says what it is.
    assert _resolved(source) == [None]
    assert _bound(source) == ["local"]


def test_match_captures_bind_names() -> None:
    source = """
        import time

        def f(event):
            match event:
                case {"clock": time}:
                    time.time()  # <-
    """
    assert _resolved(source) == [None]


def test_star_import_supplies_denylisted_and_continuum_names_only() -> None:
    source = """
        from time import *
        from continuum import *

        sleep(1)  # <-
        execute(f)  # <-
        struct_time(t)  # <-
    """
    assert _resolved(source) == ["time.sleep", "continuum.execute", None]


def test_decorators_defaults_and_annotations_resolve_in_the_enclosing_scope() -> None:
    source = """
        import functools

        def outer(functools):
            @functools.lru_cache  # resolved where the def is: the parameter
            def inner(x=functools.partial(f)):  # <-
                return x
    """
    assert _resolved(source) == [None]


@pytest.mark.parametrize(
    ("body", "codes"),
    [
        ("    time = x\n    return time.monotonic()\n", ["CNT218"]),
        ("    return [time.monotonic() for time in x]\n", ["CNT218"]),
        ("    return [y for y in x if time.monotonic()]\n", ["CNT101"]),
        ("    global time\n    return time.monotonic()\n", ["CNT215", "CNT101"]),
        ("    return (lambda time: time.monotonic())(x)\n", ["CNT218"]),
        # Like ``fn = time.monotonic; fn()``: the value reference and the call.
        ("    return (t := time.monotonic)()\n", ["CNT101", "CNT101"]),
    ],
)
def test_scoping_decides_what_the_scanner_reports(body: str, codes: list[str]) -> None:
    source = "import time\nimport continuum\n\n@continuum.workflow\ndef flow(x):\n" + body
    assert _codes(source) == codes


def test_columns_are_characters_not_utf8_bytes() -> None:
    source = (
        "import time\nimport continuum\n\n@continuum.workflow\ndef flow(x):\n"
        '    label = "héllo"; return time.time()\n'
    )
    (finding,) = scan_source(source, "flows.py")
    assert (finding.line, finding.col) == (6, source.splitlines()[5].index("time.time"))


def test_decorator_findings_point_at_the_at_sign() -> None:
    source = (
        "import functools\nimport continuum\n\n@continuum.pure\n"
        "@  functools.lru_cache\ndef rate(x: int) -> int:\n    return x\n"
    )
    (finding,) = scan_source(source, "flows.py")
    assert (finding.code, finding.line, finding.col) == ("CNT215", 5, 0)
