"""A run suspended on v1 finishes on v1 after a deploy of v2; new runs take v2; a worker
that lacks a run's version backs it off, and a capable worker's boot ends the back-off."""

from __future__ import annotations

import importlib
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import psycopg
import pytest
from chaos_support import Workers, wait_until

from continuum.client import Client
from continuum.definitions.versions import VersionRegistry
from continuum_codegen.build import build

PYPROJECT = """
[tool.continuum]
workflows = ["{pkg}.flows"]
generated = "{pkg}/_continuum"
"""

FLOWS = """
import continuum


@continuum.workflow(name="e2e.greeter")
def greeter(name: str) -> str:
    word = continuum.wait_signal("word")
    return f"{tag}:{{name}}:{{word}}"
"""


def _project(root: Path, pkg: str, tag: str) -> None:
    (root / pkg).mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(PYPROJECT.format(pkg=pkg))
    (root / pkg / "__init__.py").write_text("")
    (root / pkg / "flows.py").write_text(textwrap.dedent(FLOWS.format(tag=tag)))


def _fresh_import(root: Path, name: str) -> ModuleType:
    for mod in [m for m in sys.modules if m.split(".")[0] == name.split(".")[0]]:
        del sys.modules[mod]
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(root))


@pytest.fixture
def pkg() -> Iterator[str]:
    name = f"e2e_{uuid.uuid4().hex[:8]}"
    yield name
    for mod in [m for m in sys.modules if m.split(".")[0] == name]:
        del sys.modules[mod]


def _state(dsn: str, run_id: str) -> tuple[str, int]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT state, (SELECT count(*) FROM continuum_events WHERE run_id = r.id) "
            "FROM continuum_runs r WHERE id = %s",
            (run_id,),
        ).fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


def test_old_run_resumes_on_old_code_after_a_deploy(tmp_path: Path, pg_dsn: str, pkg: str) -> None:
    root = tmp_path / "app"
    _project(root, pkg, "v1")
    v1 = build(root).workflows[0].hash
    workers = Workers(root, pg_dsn)
    try:
        first = workers.spawn(f"{pkg}.flows")
        flows = _fresh_import(root, f"{pkg}.flows")
        with Client(pg_dsn, instance=f"e2e-{pkg}", versions=VersionRegistry.discover(root)) as c:
            sys.path.insert(0, str(root))  # the client imports the frozen module too
            old = c.start(flows.greeter, "old", id=f"{pkg}-old")
            assert c.get_run(old).version_hash == v1
            wait_until(lambda: _state(pg_dsn, old) == ("suspended", 2), what="v1 run waits")
            workers.kill(first)

            _project(root, pkg, "v2")  # the deploy: a changed body, rebuilt
            v2 = build(root).workflows[0].hash
            assert v2 != v1
            assert (root / pkg / "_continuum" / f"V_{v1}.py").exists()
            workers.spawn(f"{pkg}.flows")

            flows = _fresh_import(root, f"{pkg}.flows")
            with Client(
                pg_dsn, instance=f"e2e2-{pkg}", versions=VersionRegistry.discover(root)
            ) as c2:
                c2.signal(old, "word", "hi")
                assert c2.result(old, timeout=60) == "v1:old:hi"
                new = c2.start(flows.greeter, "new", id=f"{pkg}-new")
                assert c2.get_run(new).version_hash == v2
                c2.signal(new, "word", "yo")
                assert c2.result(new, timeout=60) == "v2:new:yo"
    finally:
        sys.path[:] = [p for p in sys.path if p != str(root)]
        workers.close()


def test_a_worker_without_the_version_backs_off_and_a_capable_one_finishes(
    tmp_path: Path, pg_dsn: str, pkg: str
) -> None:
    old_root, new_root = tmp_path / "old", tmp_path / "new"
    _project(old_root, pkg, "v1")
    v1 = build(old_root).workflows[0].hash
    _project(new_root, pkg, "v2")  # a node built from newer code only: no V_<v1>
    build(new_root)
    # A back-off far longer than the test waits: the capable worker's boot must end it
    # (registering a version lets backed-off runs proceed), not the clock.
    backoff = {"CONTINUUM_UNKNOWN_VERSION_BACKOFF": "1200"}
    incapable = Workers(new_root, pg_dsn)
    capable = Workers(old_root, pg_dsn)
    try:
        stale = incapable.spawn(f"{pkg}.flows", env=backoff)
        flows = _fresh_import(old_root, f"{pkg}.flows")
        sys.path.insert(0, str(old_root))
        registry = VersionRegistry.discover(old_root)
        with Client(pg_dsn, instance=f"e2e3-{pkg}", versions=registry) as client:
            run_id = client.start(flows.greeter, "x", id=f"{pkg}-stuck")
            client.signal(run_id, "word", "w")
            assert client.get_run(run_id).version_hash == v1

            def backed_off() -> bool:
                with psycopg.connect(pg_dsn) as conn:
                    row = conn.execute(
                        "SELECT state, next_wakeup_at > now() FROM continuum_runs WHERE id = %s",
                        (run_id,),
                    ).fetchone()
                return row is not None and row[0] == "suspended" and bool(row[1])

            wait_until(backed_off, what="the incapable worker to back the run off")
            assert _state(pg_dsn, run_id) == ("suspended", 0)  # it never ran a step
            incapable.kill(stale)  # the rolling deploy replaces it (and cannot re-claim)
            capable.spawn(f"{pkg}.flows")
            assert client.result(run_id, timeout=60) == "v1:x:w"
    finally:
        sys.path[:] = [p for p in sys.path if p != str(old_root)]
        incapable.close()
        capable.close()
