from __future__ import annotations

from pathlib import Path

import pytest

import continuum
from continuum.definitions.versions import VersionRegistry, find_manifest
from continuum.testing import WorkflowEnvironment, replay
from tests.unit import flows, flows_v2

ROOT = Path(__file__).resolve().parents[2]


def test_patched_is_false_for_histories_recorded_before_the_patch(
    env: WorkflowEnvironment,
) -> None:
    run_id = env.start(flows.greeter, None)
    env.inject_signal(run_id, "name", "ada")
    old_history = env.history(run_id)
    outcome = replay(flows_v2.greeter, old_history)
    assert outcome.result == "hello ada"
    assert not any(e["type"] == "patched" for e in old_history)


def test_patched_is_true_and_journaled_for_new_runs() -> None:
    env = WorkflowEnvironment(workflows=[flows_v2.greeter], paranoid=True)
    run_id = env.start(flows_v2.greeter, None)
    env.inject_signal(run_id, "name", "ada")
    assert env.result(run_id) == "HELLO ada"
    markers = [e for e in env.history(run_id) if e["type"] == "patched"]
    assert markers[0]["data"] == {"patch_id": "shout", "value": True}
    assert replay(flows_v2.greeter, env.history(run_id)).result == "HELLO ada"


def test_a_run_suspended_before_the_patch_line_takes_the_new_branch_on_resume() -> None:
    env = WorkflowEnvironment(workflows=[flows.greeter])
    run_id = env.start(flows.greeter, None)  # suspended at wait_signal, on old code
    env._workflows[flows.greeter.name] = flows_v2.greeter  # the deploy
    env.inject_signal(run_id, "name", "ada")
    assert env.result(run_id) == "HELLO ada"


def test_version_registry_loads_the_example_manifest() -> None:
    manifest = find_manifest(ROOT)
    assert manifest is not None
    registry = VersionRegistry.from_manifest(manifest)
    from continuum.examples.orders import flows as order_flows

    frozen = registry.for_start(order_flows.order_flow)
    assert frozen.frozen_hash is not None
    assert frozen.name == order_flows.order_flow.name
    assert registry.resolve(frozen.name, frozen.frozen_hash) is frozen
    assert registry.resolve(frozen.name, "0000000000000000") is None


def test_starting_a_workflow_missing_from_the_manifest_fails_with_the_command() -> None:
    registry = VersionRegistry.discover(ROOT)
    assert registry.modules == ("continuum.examples.orders.flows",)

    @continuum.workflow(name="continuum.examples.orders.flows:unbuilt")
    def unbuilt(_: None) -> None:
        return None

    unbuilt.fn.__module__ = "continuum.examples.orders.flows"  # as if added to the module, unbuilt
    with pytest.raises(continuum.WorkflowNotRegistered, match="continuum build"):
        registry.for_start(unbuilt)


def test_workflows_outside_the_built_modules_run_live() -> None:
    registry = VersionRegistry.discover(ROOT)
    assert registry.for_start(flows.greeter) is flows.greeter


def test_without_a_manifest_live_definitions_run(tmp_path: Path) -> None:
    registry = VersionRegistry.discover(tmp_path)
    assert not registry.built
    assert registry.for_start(flows.greeter) is flows.greeter
