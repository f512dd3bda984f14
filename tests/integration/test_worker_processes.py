"""``continuum worker --processes N`` and worker boot, as subprocesses on a real database.

- two supervised children run workflows; one is SIGKILLed mid-work, the supervisor
  restarts it and every run still finishes; SIGTERM to the supervisor exits 0 in time;
- a worker started before its database is reachable waits (and says so) and then runs
  work, or exits cleanly on SIGTERM while still waiting;
- a refused login fails fast, alone and under the supervisor (no restart loop).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from continuum.client import Client
from tests.integration.process_flows import chain

FLOWS = str(Path(__file__).with_name("process_flows.py"))


class WorkerProcess:
    """``continuum worker ...`` as a subprocess, its stderr collected line by line."""

    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "continuum.cli", "worker", FLOWS, *args],
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{what}: not seen in time; the worker said:\n{self.output}")

    def said(self, text: str, times: int = 1) -> bool:
        return sum(text in line for line in self.lines) >= times

    def stop(self, timeout: float) -> tuple[int, float]:
        """SIGTERM; the exit code and how long the exit took."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(5)
        return code, time.monotonic() - started

    def children(self) -> list[int]:
        return sorted(c.pid for c in psutil.Process(self.proc.pid).children())

    def close(self) -> None:
        if self.proc.poll() is None:
            for child in psutil.Process(self.proc.pid).children(recursive=True):
                child.kill()
            self.proc.kill()
            self.proc.wait(10)
        self._reader.join(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def spawn() -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(*args: str, env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(*args, env=env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


def test_supervised_children_survive_a_sigkill_and_stop_cleanly(
    pg_dsn: str, spawn: Callable[..., WorkerProcess]
) -> None:
    sup = spawn("--processes", "2", "--dsn", pg_dsn, "--max-runs", "4", "--max-activities", "4")
    sup.wait_for(lambda: sup.said("worker ", times=2) and sup.said("supervising 2"), "2 workers")
    first = sup.children()
    assert len(first) == 2
    with Client(pg_dsn, instance=f"procs-{uuid.uuid4().hex[:8]}") as client:
        ids = [client.start(chain, i) for i in range(40)]
        # Both children have leased work before one of them is killed.
        time.sleep(1.0)
        victim = first[0]
        os.kill(victim, signal.SIGKILL)
        sup.wait_for(lambda: sup.said("restarted"), "the restart")
        sup.wait_for(lambda: sup.said("worker ", times=3), "the new child's banner")
        results = [client.result(run_id, timeout=120) for run_id in ids]
    assert results == [i * 8 for i in range(40)]
    now = sup.children()
    assert len(now) == 2 and victim not in now and first[1] in now
    assert any("was killed by SIGKILL" in line for line in sup.lines)
    code, took = sup.stop(timeout=60)
    assert code == 0, sup.output
    assert took < 25  # the worker drain (10 s) plus the boot margin; bound 20 s + slack
    assert sup.said("worker stopped", times=2)
    assert sup.said("every worker process stopped")
    assert not any(psutil.pid_exists(pid) for pid in now if _alive(pid))


def test_children_of_a_killed_supervisor_drain_and_exit(
    pg_dsn: str, spawn: Callable[..., WorkerProcess]
) -> None:
    sup = spawn("--processes", "2", "--dsn", pg_dsn)
    sup.wait_for(lambda: sup.said("Ctrl-C to stop", times=2), "2 workers")
    children = [psutil.Process(pid) for pid in sup.children()]
    sup.proc.kill()  # SIGKILL: the supervisor cannot forward anything
    sup.proc.wait(10)
    gone, alive = psutil.wait_procs(children, timeout=30)
    assert alive == [], sup.output
    assert len(gone) == 2
    sup._reader.join(10)  # the pipe closes once the children, its last writers, are gone
    assert sup.said("worker stopped", times=2), sup.output  # each drained, as on SIGTERM


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    """A short directory for a Unix socket (their paths are limited to ~100 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="cpw"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _moved(pg_dsn: str, socket_dir: Path) -> tuple[str, Path, Path]:
    """The DSN pointed at ``socket_dir``, the real socket, and where its link will go."""
    params = conninfo_to_dict(pg_dsn)
    host = str(params.get("host") or "")
    if not host.startswith("/"):
        pytest.skip("needs the embedded test server's Unix socket")  # pragma: no cover
    port = str(params.get("port") or "5432")
    name = f".s.PGSQL.{port}"
    return make_conninfo(pg_dsn, host=str(socket_dir)), Path(host) / name, socket_dir / name


def test_a_worker_waits_for_an_unreachable_database_then_runs_work(
    pg_dsn: str, socket_dir: Path, spawn: Callable[..., WorkerProcess]
) -> None:
    dsn, real_socket, link = _moved(pg_dsn, socket_dir)
    worker = spawn("--dsn", dsn)
    worker.wait_for(lambda: worker.said("waiting for PostgreSQL", times=2), "waiting")
    assert worker.proc.poll() is None
    assert str(socket_dir) in worker.output  # it says where it is waiting
    link.symlink_to(real_socket)  # the server "comes up" where the worker looks
    worker.wait_for(lambda: worker.said("Ctrl-C to stop"), "the worker's banner")
    with Client(pg_dsn, instance=f"procs-{uuid.uuid4().hex[:8]}") as client:
        assert client.result(client.start(chain, 5), timeout=60) == 40
    code, _took = worker.stop(timeout=30)
    assert code == 0, worker.output


def test_a_waiting_worker_exits_cleanly_on_sigterm(
    pg_dsn: str, socket_dir: Path, spawn: Callable[..., WorkerProcess]
) -> None:
    dsn, _real, _link = _moved(pg_dsn, socket_dir)
    worker = spawn("--dsn", dsn)
    worker.wait_for(lambda: worker.said("waiting for PostgreSQL"), "waiting")
    code, took = worker.stop(timeout=30)
    assert code == 0, worker.output
    assert took < 5
    assert worker.said("stopped before it could connect")


def test_a_refused_login_fails_fast(pg_dsn: str, spawn: Callable[..., WorkerProcess]) -> None:
    bad = make_conninfo(pg_dsn, user="no_such_role_x")
    worker = spawn("--dsn", bad)
    assert worker.proc.wait(timeout=60) == 1
    worker._reader.join(5)
    assert worker.said("cannot log in to PostgreSQL")
    assert worker.said("no_such_role_x")
    assert not worker.said("waiting for PostgreSQL")


def test_a_refused_login_under_the_supervisor_is_not_restarted(
    pg_dsn: str, spawn: Callable[..., WorkerProcess]
) -> None:
    bad = make_conninfo(pg_dsn, user="no_such_role_x")
    sup = spawn("--processes", "2", "--dsn", bad)
    assert sup.proc.wait(timeout=60) == 1
    sup._reader.join(5)
    assert sup.said("cannot log in to PostgreSQL")
    assert sup.said("a restart cannot fix")
    assert not sup.said("restarted")


def test_a_malformed_dsn_fails_before_any_child_starts(
    spawn: Callable[..., WorkerProcess],
) -> None:
    sup = spawn("--processes", "2", "--dsn", "host=db dbname")
    assert sup.proc.wait(timeout=60) == 1
    sup._reader.join(5)
    assert sup.said("not a valid PostgreSQL connection string")
    assert not sup.said("supervising")
