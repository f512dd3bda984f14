"""The procrastinate activity executor, with real procrastinate worker processes.

Continuum workers lease activity tasks and defer them to procrastinate; separate
procrastinate worker processes (built with ``continuum_app``) execute them and record
the outcome through Continuum's fenced finish. Covered: results, Continuum's retries,
a SIGKILLed procrastinate worker (its attempt is retried once its lease lapses), and a
stale completion (a frozen worker that wakes up after its attempt was retried elsewhere
writes nothing).
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import procrastinate
import psycopg
import pytest

from continuum.client import Client
from continuum.runtime.worker import Worker

REPO = Path(__file__).resolve().parents[2]
QUEUE = "continuum_activities"

MODULE = """
import os, time
import continuum
from continuum import seconds

LOG = os.environ.get("PROC_TEST_LOG", "/dev/null")


def _log(line):
    with open(LOG, "a") as f:
        f.write(line + "\\n")


@continuum.activity(name="proc.add")
def add(a: int, b: int) -> dict:
    info = continuum.activity_info()
    _log(f"add {a}+{b} attempt={info.attempt} pid={os.getpid()}")
    return {"sum": a + b, "pid": os.getpid()}


@continuum.activity(name="proc.flaky", max_attempts=4,
                    backoff=continuum.Backoff(initial=seconds(0.05)))
def flaky(n: int) -> int:
    attempt = continuum.activity_info().attempt
    _log(f"flaky attempt={attempt}")
    if attempt < n:
        continuum.heartbeat({"got_to": attempt})
        raise ConnectionError(f"attempt {attempt} failed")
    return continuum.heartbeat_details()["got_to"]


@continuum.activity(name="proc.slow", max_attempts=3,
                    backoff=continuum.Backoff(initial=seconds(0.05)))
def slow(tag: str) -> str:
    attempt = continuum.activity_info().attempt
    _log(f"slow start attempt={attempt} pid={os.getpid()}")
    if attempt == 1:
        time.sleep(float(os.environ.get("PROC_SLOW_S", "4")))
    _log(f"slow done attempt={attempt} pid={os.getpid()}")
    return f"{tag}-attempt-{attempt}"


@continuum.activity(name="proc.hangs", heartbeat_timeout=seconds(1), max_attempts=2)
def hangs() -> int:
    attempt = continuum.activity_info().attempt
    _log(f"hangs attempt={attempt} at={time.time()}")
    if attempt == 1:
        continuum.heartbeat("alive")
        time.sleep(60)  # hung: no more heartbeats
    return attempt


@continuum.workflow(name="proc.hang_flow")
def hang_flow() -> int:
    return continuum.execute(hangs)


@continuum.workflow(name="proc.flow")
def flow(n: int) -> list:
    return [continuum.execute(add, n, 1), continuum.execute(flaky, n)]


@continuum.workflow(name="proc.slow_flow")
def slow_flow(tag: str) -> str:
    return continuum.execute(slow, tag)
"""

RUN_WORKER = (
    "import sys, importlib; "
    "from continuum.executors.procrastinate import continuum_app; "
    "mod = importlib.import_module(sys.argv[1]); "
    "app = continuum_app(sys.argv[2], lease_ttl=2.0, lease_renew=0.5); "
    f"app.run_worker(queues=[{QUEUE!r}], concurrency=2, fetch_job_polling_interval=0.5)"
)


class ProcWorkers:
    """Procrastinate worker processes for one test (killed at teardown)."""

    def __init__(self, tmp_path: Path, dsn: str, module: str, log: Path) -> None:
        self.tmp_path, self.dsn, self.module, self.log = tmp_path, dsn, module, log
        self.procs: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def spawn(self, **env: str) -> subprocess.Popen[bytes]:
        out = open(self.tmp_path / f"proc-{len(self.procs)}.out", "wb")  # noqa: SIM115
        self._files.append(out)
        proc = subprocess.Popen(
            [sys.executable, "-c", RUN_WORKER, self.module, self.dsn],
            cwd=self.tmp_path,
            env={
                **os.environ,
                "PYTHONPATH": f"{self.tmp_path}{os.pathsep}{REPO}",
                "PROC_TEST_LOG": str(self.log),
                **env,
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        for f in self._files:
            f.close()

    def output(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in self.tmp_path.glob("proc-*.out"))


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture
def env(pg_dsn: str, tmp_path: Path) -> Iterator[tuple[ModuleType, ProcWorkers, Client, Path]]:
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=pg_dsn))
    with app.open():
        app.schema_manager.apply_schema()  # procrastinate's own tables, same database
    name = f"proc_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(MODULE))
    log = tmp_path / "activity.log"
    log.touch()
    sys.path.insert(0, str(tmp_path))
    try:
        module = importlib.import_module(name)
        procs = ProcWorkers(tmp_path, pg_dsn, name, log)
        with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as client:
            try:
                yield module, procs, client, log
            finally:
                procs.close()
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop(name, None)


def _worker(client: Client, module: ModuleType, **options: Any) -> Worker:
    return Worker(
        client,
        workflows=[module.flow, module.slow_flow, module.hang_flow],
        activities=[],
        poll_interval=0.5,
        sweep_interval=0.5,
        activity_executor=("procrastinate", {"queue": QUEUE, **options}),
    )


def test_results_and_retries_go_through_procrastinate(
    env: tuple[ModuleType, ProcWorkers, Client, Path],
) -> None:
    module, procs, client, log = env
    worker_proc = procs.spawn()
    with _worker(client, module):
        run_id = client.start(module.flow, 3)
        result = client.result(run_id, timeout=60)
    add, flaky = result
    assert add["sum"] == 4 and add["pid"] == worker_proc.pid  # ran in the procrastinate worker
    assert flaky == 2  # attempt 3 read the details attempt 2 left
    lines = log.read_text().splitlines()
    assert [line for line in lines if line.startswith("flaky")] == [
        "flaky attempt=1",
        "flaky attempt=2",
        "flaky attempt=3",
    ]
    with psycopg.connect(client.dsn) as conn:
        jobs = conn.execute(
            "SELECT task_name, status, count(*) FROM procrastinate_jobs GROUP BY 1, 2"
        ).fetchall()
    # One procrastinate job per attempt, each finished successfully: the retries were
    # Continuum's (procrastinate's own retry is off).
    assert jobs == [("continuum.execute_activity", "succeeded", 4)]


def test_a_killed_procrastinate_worker_is_retried_elsewhere(
    env: tuple[ModuleType, ProcWorkers, Client, Path],
) -> None:
    module, procs, client, log = env
    first = procs.spawn(PROC_SLOW_S="60")
    with _worker(client, module):
        run_id = client.start(module.slow_flow, "k")
        wait_until(lambda: "slow start attempt=1" in log.read_text(), 30, "attempt 1 to start")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = procs.spawn()
        assert client.result(run_id, timeout=60) == "k-attempt-2"
    lines = log.read_text()
    assert f"slow start attempt=2 pid={second.pid}" in lines
    events = client.history(run_id)
    done = [e for e in events if e["type"] == "activity_completed"]
    assert len(done) == 1 and done[0]["data"]["attempts"] == 2


def test_a_stale_completion_from_a_frozen_worker_writes_nothing(
    env: tuple[ModuleType, ProcWorkers, Client, Path],
) -> None:
    module, procs, client, log = env
    frozen = procs.spawn(PROC_SLOW_S="1.5")
    with _worker(client, module):
        run_id = client.start(module.slow_flow, "f")
        wait_until(lambda: "slow start attempt=1" in log.read_text(), 30, "attempt 1 to start")
        frozen.send_signal(signal.SIGSTOP)  # its lease renewals stop; the lease lapses
        procs.spawn()
        assert client.result(run_id, timeout=60) == "f-attempt-2"
        frozen.send_signal(signal.SIGCONT)  # attempt 1 finishes now and tries to record
        wait_until(lambda: "slow done attempt=1" in log.read_text(), 30, "attempt 1 to finish")
        time.sleep(1.0)
    with psycopg.connect(client.dsn) as conn:
        row = conn.execute(
            "SELECT state, attempt, result FROM continuum_activity_tasks WHERE run_id = %s",
            (run_id,),
        ).fetchone()
    assert row == ("completed", 2, "f-attempt-2")
    assert client.result(run_id, timeout=5) == "f-attempt-2"
    done = [e for e in client.history(run_id) if e["type"] == "activity_completed"]
    assert len(done) == 1


def test_bad_executor_options_are_rejected(pg_dsn: str) -> None:
    from continuum.errors import ConfigurationError

    with Client(pg_dsn) as client:
        with pytest.raises(ConfigurationError, match="activity_executor"):
            Worker(client, activity_executor="oban")
        with pytest.raises(ConfigurationError, match="activity_executor"):
            Worker(client, activity_executor=("procrastinate", "queue"))  # type: ignore[arg-type]
        with pytest.raises(ConfigurationError, match="unknown option"):
            Worker(client, activity_executor=("procrastinate", {"qeue": "x"}))
        with pytest.raises(ConfigurationError, match="queue_ttl"):
            Worker(client, activity_executor=("procrastinate", {"queue_ttl": 0}))
        with pytest.raises(ConfigurationError, match="'app'"):
            Worker(client, activity_executor=("procrastinate", {"app": "myapp"}))


def test_a_job_that_waited_too_long_in_the_queue_does_not_count_an_attempt(
    env: tuple[ModuleType, ProcWorkers, Client, Path],
) -> None:
    module, procs, client, log = env
    with _worker(client, module, queue_ttl=0.5):
        run_id = client.start(module.slow_flow, "q")
        # No procrastinate worker yet: the attempt is taken back from the queue (more
        # than once), each time without counting.
        time.sleep(2.5)
        with psycopg.connect(client.dsn) as conn:
            jobs = conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone()
        assert jobs is not None and jobs[0] >= 2
        procs.spawn(PROC_SLOW_S="0")
        assert client.result(run_id, timeout=60) == "q-attempt-1"
    # The stale jobs found their attempt gone and ran nothing.
    assert log.read_text().count("slow start") == 1


def test_heartbeat_timeout_applies_to_procrastinate_attempts(
    env: tuple[ModuleType, ProcWorkers, Client, Path],
) -> None:
    module, procs, client, log = env
    procs.spawn()
    with _worker(client, module):
        assert client.result(client.start(module.hang_flow), timeout=60) == 2
    times = {
        line.split()[1]: float(line.split("at=")[1])
        for line in log.read_text().splitlines()
        if line.startswith("hangs")
    }
    # Attempt 1 went silent; attempt 2 started within heartbeat_timeout (1 s) + 2 s.
    assert times["attempt=2"] - times["attempt=1"] <= 1.0 + 2.0
