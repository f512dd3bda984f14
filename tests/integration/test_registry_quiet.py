"""A script run from a folder whose pyproject names a build the process cannot load is
quiet until it needs a version, and then says what to run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """\
    import continuum

    @continuum.workflow
    def hello(name: str) -> str:
        return f"hello {name}"

    client = continuum.Client()
    with continuum.Worker(client, workflows=[hello]):
        print(client.result(client.start(hello, "ada"), timeout=30))
    """
)


def _project(tmp_path: Path, *, built: bool) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.continuum]\nworkflows = ["gone.flows"]\ngenerated = "gone/_continuum"\n'
    )
    if built:
        generated = tmp_path / "gone" / "_continuum"
        generated.mkdir(parents=True)
        version = {
            "built_at": "2026-11-21T15:34:29Z",
            "entrypoint": "gone._continuum.V_0123456789abcdef",
            "patched": [],
            "qualname": "flow",
            "source": "gone/flows.py",
        }
        manifest = {
            "scheme": "continuum-hash-v1",
            "workflows": {
                "gone.Flow": {
                    "current": "0123456789abcdef",
                    "versions": {"0123456789abcdef": version},
                }
            },
        }
        (generated / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def _run(cwd: Path, pg_dsn: str, source: str) -> subprocess.CompletedProcess[str]:
    (cwd / "script.py").write_text(source)
    env = {**os.environ, "CONTINUUM_DATABASE_URL": pg_dsn}
    return subprocess.run(
        [sys.executable, "script.py"], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_unloadable_build_makes_no_noise_for_runs_it_does_not_cover(
    tmp_path: Path, pg_dsn: str
) -> None:
    for built in (True, False):
        folder = tmp_path / f"built-{built}"
        folder.mkdir()
        proc = _run(_project(folder, built=built), pg_dsn, SCRIPT)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "hello ada"
        assert proc.stderr == "", proc.stderr


COVERED = textwrap.dedent(
    """\
    import continuum

    @continuum.workflow(name="gone.Flow")
    def flow(name: str) -> str:
        return name

    try:
        continuum.Client().start(flow, "x")
    except continuum.WorkflowNotRegistered as exc:
        print(exc)
    """
)


def test_starting_a_workflow_whose_build_cannot_load_says_what_to_run(
    tmp_path: Path, pg_dsn: str
) -> None:
    proc = _run(_project(tmp_path, built=True), pg_dsn, COVERED)
    assert proc.returncode == 0, proc.stderr
    assert "cannot start 'gone.Flow'" in proc.stdout
    assert "ModuleNotFoundError" in proc.stdout and "continuum build" in proc.stdout
    assert proc.stderr == "", proc.stderr
