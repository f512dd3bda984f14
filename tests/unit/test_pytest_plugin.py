from __future__ import annotations

from continuum.testing import WorkflowEnvironment
from tests.unit import flows


def test_plugin_fixture_gives_a_fresh_environment(continuum_env: WorkflowEnvironment) -> None:
    run_id = continuum_env.start(flows.fan_out, 2)
    assert continuum_env.result(run_id) == [0, 2]


def test_paranoid_fixture_re_replays_finished_runs(
    continuum_paranoid_env: WorkflowEnvironment,
) -> None:
    assert continuum_paranoid_env.paranoid
    run_id = continuum_paranoid_env.start(flows.values, None)
    assert continuum_paranoid_env.get_run(run_id).state == "completed"
