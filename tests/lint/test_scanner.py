"""Scanner behaviour: resolution, call chains, cross-module helpers, config, robustness."""

from __future__ import annotations

import textwrap
from pathlib import Path

from continuum_lint import Config, Scanner, scan_source
from continuum_lint.config import parse_config


def _scan(source: str, path: str = "flows.py", config: Config | None = None) -> list[str]:
    return [f.format() for f in scan_source(textwrap.dedent(source), path, config)]


def _codes(source: str, config: Config | None = None) -> list[str]:
    return [f.code for f in scan_source(textwrap.dedent(source), "flows.py", config)]


def test_import_alias_of_datetime_class_is_resolved() -> None:
    source = """
        from datetime import datetime as D
        import continuum

        @continuum.workflow
        def flow(x: int) -> object:
            return D.now()
    """
    assert _codes(source) == ["CNT101"]


def test_users_own_class_named_datetime_is_not_flagged() -> None:
    source = """
        import continuum

        class datetime:
            @staticmethod
            def now() -> int:
                return 0

        @continuum.workflow
        def flow(x: int) -> int:
            return datetime.now()
    """
    assert _codes(source) == []


def test_assignment_alias_in_function_is_resolved() -> None:
    source = """
        import datetime
        import continuum

        @continuum.workflow
        def flow(x: int) -> object:
            D = datetime.datetime
            return D.utcnow()
    """
    assert "CNT101" in _codes(source)


def test_finding_through_helpers_prints_the_chain_with_file_and_line() -> None:
    source = """
        import time
        import continuum

        def inner(xs: list[int]) -> float:
            return sum(xs) + time.time()

        def total_of(xs: list[int]) -> float:
            return inner(xs)

        @continuum.workflow
        def order_flow(xs: list[int]) -> float:
            return total_of(xs)
    """
    (line,) = _scan(source)
    assert line.startswith("flows.py:6:22: CNT101 time.time() is nondeterministic in workflow code")
    assert (
        "(order_flow at flows.py:12 → total_of at flows.py:13 → inner at flows.py:9"
        " → time.time() at flows.py:6); use continuum.now()"
    ) in line


def test_recursive_helpers_terminate() -> None:
    source = """
        import continuum

        def ping(n: int) -> int:
            return pong(n - 1) if n else 0

        def pong(n: int) -> int:
            return ping(n)

        @continuum.workflow
        def flow(n: int) -> int:
            return ping(n)
    """
    assert _codes(source) == []


def test_workflow_decorator_found_through_alias_and_star_import() -> None:
    aliased = """
        import time
        from continuum import workflow as wf

        @wf(version=3, name="orders.Flow")
        def flow(x: int) -> float:
            return time.monotonic()
    """
    star = """
        import time
        from continuum import *

        @workflow
        def flow(x: int) -> float:
            return time.perf_counter()
    """
    assert _codes(aliased) == ["CNT101"]
    assert _codes(star) == ["CNT101"]


def test_file_without_workflows_is_not_parsed(monkeypatch: object) -> None:
    broken = "def f(:\n    time.time()\n"
    assert scan_source(broken, "other.py") == []


def test_unparseable_workflow_file_gives_one_cnt100() -> None:
    findings = scan_source("import continuum\n@continuum.workflow\ndef f(:\n", "bad.py")
    assert [f.code for f in findings] == ["CNT100"]
    assert findings[0].message.startswith("could not parse bad.py")


def test_pure_helper_cannot_launder_untrusted_or_dynamic_calls() -> None:
    source = """
        import numpy
        import continuum

        @continuum.pure
        def mean(xs: list[float], fn: object) -> float:
            fn()
            return float(numpy.mean(xs))
    """
    assert sorted(_codes(source)) == ["CNT213", "CNT218"]


def test_untrusted_call_severity_error_turns_warning_into_cnt113() -> None:
    source = """
        import numpy
        import continuum

        @continuum.workflow
        def flow(xs: list[float]) -> float:
            return float(numpy.mean(xs))
    """
    config = parse_config({"untrusted_call_severity": "error"})
    assert _codes(source, config) == ["CNT113"]


def test_trusted_modules_silence_untrusted_calls() -> None:
    source = """
        import numpy
        import continuum

        @continuum.workflow
        def flow(xs: list[float]) -> float:
            return float(numpy.mean(xs))
    """
    assert _codes(source, parse_config({"trusted_modules": ["numpy"]})) == []


def test_extra_denylist_entries_from_config_are_reported() -> None:
    source = """
        from myapp.clock import now
        import continuum

        @continuum.workflow
        def flow(x: int) -> object:
            return now()
    """
    table = {
        "denylist": [{"name": "myapp.clock.now", "code": "CNT101", "hint": "use continuum.now()"}]
    }
    (finding,) = scan_source(textwrap.dedent(source), "flows.py", parse_config(table))
    assert finding.code == "CNT101"
    assert finding.message.endswith("; use continuum.now()")


def _write(root: Path, name: str, source: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def test_cross_module_pure_helper_is_followed_and_chain_names_both_files(tmp_path: Path) -> None:
    _write(tmp_path, "app/__init__.py", "")
    _write(
        tmp_path,
        "app/money.py",
        """
        import random
        import continuum

        @continuum.pure
        def jitter(x: int) -> float:
            return x + random.random()
        """,
    )
    flows = _write(
        tmp_path,
        "app/flows.py",
        """
        import continuum
        from app.money import jitter

        @continuum.workflow
        def flow(x: int) -> float:
            return jitter(x)
        """,
    )
    (finding,) = Scanner().scan_source(flows.read_text(), str(flows))
    assert finding.code == "CNT102"
    assert finding.line == 7, "reported where the chain leaves the scanned file"
    assert "money.py:7" in finding.message and "flows.py:7" in finding.message


def test_relative_import_of_plain_function_is_untrusted(tmp_path: Path) -> None:
    _write(tmp_path, "pkg/__init__.py", "")
    _write(tmp_path, "pkg/util.py", "def double(x: int) -> int:\n    return 2 * x\n")
    flows = _write(
        tmp_path,
        "pkg/flows.py",
        """
        import continuum
        from .util import double

        @continuum.workflow
        def flow(x: int) -> int:
            return double(x)
        """,
    )
    (finding,) = Scanner().scan_source(flows.read_text(), str(flows))
    assert finding.code == "CNT213"
    assert "not @continuum.pure" in finding.message


def test_imported_pydantic_models_and_dataclasses_are_trusted(tmp_path: Path) -> None:
    _write(tmp_path, "shop/__init__.py", "")
    _write(
        tmp_path,
        "shop/models.py",
        """
        import dataclasses
        import pydantic

        class Base(pydantic.BaseModel):
            id: str

        class Order(Base):
            total: int

        @dataclasses.dataclass
        class Line:
            sku: str
        """,
    )
    flows = _write(
        tmp_path,
        "shop/flows.py",
        """
        import continuum
        from shop.models import Line, Order

        @continuum.workflow
        def flow(x: int) -> Order:
            Line(sku="a")
            return Order(id="o", total=x)
        """,
    )
    assert Scanner().scan_source(flows.read_text(), str(flows)) == []


def test_default_factory_reference_to_uuid4_is_reported() -> None:
    source = """
        import uuid
        import dataclasses
        import continuum

        @continuum.workflow
        def flow(x: int) -> object:
            return dataclasses.field(default_factory=uuid.uuid4)
    """
    (line,) = _scan(source)
    assert "CNT103 uuid.uuid4 is passed as a value" in line


def test_client_built_at_module_level_is_tracked_into_workflows() -> None:
    source = """
        import continuum

        client = continuum.Client()

        @continuum.workflow
        def flow(run_id: str) -> object:
            return client.result(run_id)
    """
    assert _codes(source) == ["CNT109"]


def test_execute_without_compensate_is_fine_outside_saga_modules() -> None:
    source = """
        import continuum

        @continuum.workflow
        def flow(x: int) -> object:
            return continuum.execute(act, x)
    """
    assert _codes(source) == []


def test_every_function_mode_checks_plain_functions() -> None:
    source = "import time\n\ndef f() -> float:\n    return time.time()\n"
    findings = Scanner(every_function=True).scan_source(source, "plain.py")
    assert [f.code for f in findings] == ["CNT101"]


def test_compiler_warnings_do_not_make_a_workflow_file_unparseable() -> None:
    # A bad escape makes the parser warn; the test suite turns warnings into errors,
    # which must not turn the file into a CNT100.
    source = """
        import continuum

        @continuum.workflow
        def flow(x: int) -> bool:
            return x is 1 or "\\d" == x
    """
    assert _codes(source) == []


def test_message_effects_and_cancellation_handlers_are_clean() -> None:
    source = """
        from continuum import *
        import continuum

        @continuum.workflow
        def flow(x: int) -> int:
            set_event("stage", {"x": x})
            continuum.logger.info("run %s", info().run_id)
            upd = wait_update("approve", timeout=continuum.seconds(5))
            try:
                name, payload = continuum.wait_signal(["a", "b"])
            except continuum.Cancelled:
                reject(upd, "cancelled")
                raise
            finally:
                continuum.wait_update("late")
            reply(upd, {"ok": True})
            return x
    """
    assert _codes(source) == []


def test_broad_except_around_update_wait_is_flagged() -> None:
    source = """
        import continuum

        @continuum.workflow
        def flow(x: int) -> int:
            try:
                upd = continuum.wait_update("approve")
                continuum.reply(upd, 1)
            except BaseException:
                return 0
            return x
    """
    assert _codes(source) == ["CNT111"]
