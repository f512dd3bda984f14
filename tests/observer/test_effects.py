"""The Observer's static view of a workflow's effects (no database needed)."""

from __future__ import annotations

import importlib.util
import json
import sys
import textwrap
import uuid
from pathlib import Path

from continuum.definitions.versions import VersionRegistry
from continuum.observer.effects import effects_for_run, static_effects

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "continuum" / "examples" / "orders" / "_continuum"


def _load(tmp_path: Path, source: str) -> object:
    name = f"effects_case_{uuid.uuid4().hex[:8]}"
    path = tmp_path / f"{name}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_effects_in_source_order_with_aliases_and_reached_marks(tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    module = _load(
        tmp_path,
        f"""
        import continuum as c
        from continuum import execute as run_activity, seconds


        @c.activity
        def pay(n: int) -> int:
            return n


        @c.workflow(name="effects.{tag}")
        def flow(n: int) -> int:
            def helper() -> None:  # a nested function is not the workflow's body
                c.sleep(seconds(1))

            paid = run_activity(pay, n)
            answer = c.wait_signal("approve", timeout=seconds(5))
            c.sleep(seconds(3))
            ref = c.start_child(flow, n - 1) if n else None
            if ref is not None:
                c.wait_child(ref)
            print(len(str(answer)))
            return paid
        """,
    )
    flow = module.flow  # type: ignore[attr-defined]
    first_line = flow.fn.__code__.co_firstlineno  # the decorator's line
    # The journal holds a command from the activity call only (line 16 of the file).
    view = static_effects(flow, {("activity", "flow", 16 - first_line)})
    assert view.unavailable is None and view.source is not None
    assert view.source.endswith(".py")
    shown = [(e.kind, e.target, e.line) for e in view.effects]
    assert shown == [
        ("activity", "pay", 16),
        ("signal", "approve", 17),
        ("timer", "seconds(3)", 18),
        ("child", "flow", 19),
        ("child wait", "ref", 21),
    ]
    assert [e.reached for e in view.effects] == [True, False, False, False, None]
    assert json.dumps([e.to_json() for e in view.effects])  # JSON-ready


def test_frozen_version_is_read_from_its_v_hash_module() -> None:
    manifest = json.loads((EXAMPLE / "manifest.json").read_text())
    current = manifest["workflows"]["orders.OrderFlow"]["current"]
    registry = VersionRegistry.from_manifest(EXAMPLE / "manifest.json")
    view = effects_for_run(registry.resolve, "orders.OrderFlow", current, set)
    assert view.unavailable is None
    assert view.source is not None and view.source.endswith(f"V_{current}.py")
    kinds = [e.kind for e in view.effects]
    assert kinds[:3] == ["activity", "activity", "compensation"]
    assert "signal" in kinds and "timer" in kinds
    targets = [e.target for e in view.effects]
    assert targets[:2] == ["reserve_stock", "charge"] and "fraud_review" in targets
    assert all(e.reached is False or e.reached is None for e in view.effects)


def test_unknown_version_says_why() -> None:
    view = effects_for_run(lambda name, version: None, "orders.Gone", "deadbeef", set)
    assert view.effects == [] and view.unavailable is not None
    assert "deadbeef" in view.unavailable and "not loaded" in view.unavailable
