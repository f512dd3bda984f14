"""Shared by the chaos scripts: a scratch database, a workload that records every
activity execution, worker processes that can be killed, and the invariant checks.

Every script prints one JSON document; the figures the operations guide quotes come
from these. Counted invariants (each must be 0):

- ``lost``: runs that never completed;
- ``duplicate_completions``: runs with more than one ``run_completed`` event, and
  activity commands with more than one outcome event;
- ``over_max_attempts``: (run, step) pairs whose activity body ran more often than its
  ``max_attempts`` allows;
- ``raw_database_errors``: psycopg errors that reached a caller instead of a typed error.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

BENCH = Path(__file__).resolve().parents[1]
REPO = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(REPO))

from _scratch import percentile, scratch_database  # noqa: E402

MAX_ATTEMPTS = 5

WORKLOAD = """
import os
import psycopg
import continuum
from continuum import seconds

_DSN = os.environ.get("CHAOS_DSN", "")


def _record(key: str, step: int) -> None:
    with psycopg.connect(_DSN, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO chaos_executions (key, step, pid) VALUES (%s, %s, %s)",
            (key, step, os.getpid()),
        )


@continuum.activity(max_attempts=MAX_ATTEMPTS, backoff=continuum.Backoff(initial=seconds(0.2)))
def step(key: str, n: int) -> str:
    _record(key, n)
    return f"{key}:{n}"


@continuum.workflow(name="chaos.flow")
def flow(key: str) -> list[str]:
    out = [continuum.execute(step, key, n) for n in range(3)]
    if key.endswith("-t"):
        continuum.sleep(seconds(0.5))
    return out


@continuum.activity(max_attempts=MAX_ATTEMPTS)
def charge_once(key: str, shared: str) -> str:
    _record(key, 100)
    _record(shared, 200)  # one row per body execution under the shared idempotency key
    import time
    import uuid

    time.sleep(0.3)
    return f"charged:{shared}:{uuid.uuid4().hex[:8]}"  # differs per execution


@continuum.workflow(name="chaos.shared_key")
def shared_key(key: str) -> str:
    shared = key.rsplit("-", 1)[0]
    return continuum.execute(charge_once, key, shared, idempotency_key=f"charge:{shared}")


@continuum.workflow(name="chaos.waiter")
def waiter(key: str) -> str:
    got = continuum.wait_signal("go")
    continuum.sleep(seconds(0.2))
    return str(got)
""".replace("MAX_ATTEMPTS", str(MAX_ATTEMPTS))


@contextmanager
def chaos_database(dsn: str | None) -> Iterator[str]:
    """A fresh migrated database with the execution log table."""
    with scratch_database(dsn) as target:
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE chaos_executions (key text, step int, pid int,"
                " at timestamptz DEFAULT clock_timestamp())"
            )
        yield target


class Cluster:
    """Worker processes running the workload module; kill, freeze, respawn."""

    def __init__(self, dsn: str, *, env: dict[str, str] | None = None) -> None:
        self.dsn = dsn
        self.dir = Path(tempfile.mkdtemp(prefix="continuum-chaos-"))
        (self.dir / "chaos_workload.py").write_text(textwrap.dedent(WORKLOAD))
        self.env = {
            **os.environ,
            "CHAOS_DSN": dsn,
            "PYTHONPATH": f"{self.dir}{os.pathsep}{REPO}",
            **(env or {}),
        }
        self.procs: list[subprocess.Popen[bytes]] = []
        self.spawned = 0

    def spawn(self, *, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        log = open(self.dir / f"worker-{self.spawned}.log", "wb")  # noqa: SIM115
        self.spawned += 1
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from continuum.cli.worker_commands import worker_command; "
                "worker_command(sys.argv[1:])",
                "chaos_workload",
                "--dsn",
                self.dsn,
                "--max-runs",
                "4",
                "--max-activities",
                "4",
            ],
            cwd=self.dir,
            env={**self.env, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def wait_registered(self, count: int, timeout: float = 60.0) -> None:
        """Wait until ``count`` workers have registered (they are up and working)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with psycopg.connect(self.dsn, autocommit=True) as conn:
                row = conn.execute("SELECT count(*) FROM continuum_workers").fetchone()
            if row and row[0] >= count:
                return
            time.sleep(0.1)
        raise TimeoutError(f"fewer than {count} workers registered within {timeout} s")

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in self.procs if p.poll() is None]

    def kill_random(self) -> tuple[int, float]:
        victim = random.choice(self.live())
        victim.send_signal(signal.SIGKILL)
        at = time.monotonic()
        victim.wait(10)
        return victim.pid, at

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.dir.glob("*.log")))


def start_runs(dsn: str, keys: list[str], workflow: str = "chaos.flow") -> None:
    """Start one run per key through the client, as an application would."""
    from continuum.client import Client

    with Client(dsn) as client:
        flow = workload_flow(workflow)
        for key in keys:
            client.start(flow, key, id=key)


_FLOWS = {"chaos.flow": "flow", "chaos.waiter": "waiter", "chaos.shared_key": "shared_key"}


def workload_flow(name: str) -> Any:
    """The workload's workflow ``name``, imported in this process (same source, same hash)."""
    import importlib.util

    if "chaos_workload" in sys.modules:
        module = sys.modules["chaos_workload"]
        return getattr(module, _FLOWS[name])
    path = Path(tempfile.mkdtemp(prefix="continuum-chaos-client-")) / "chaos_workload.py"
    path.write_text(textwrap.dedent(WORKLOAD))
    spec = importlib.util.spec_from_file_location("chaos_workload", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["chaos_workload"] = module
    spec.loader.exec_module(module)
    return getattr(module, _FLOWS[name])


def wait_terminal(dsn: str, keys: list[str], timeout: float) -> float:
    """Seconds until every run is terminal (or ``timeout``)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "SELECT count(*) FROM continuum_runs WHERE id = ANY(%s)"
                " AND state IN ('completed', 'failed', 'cancelled')",
                (keys,),
            ).fetchone()
        if row and row[0] == len(keys):
            break
        time.sleep(0.5)
    return time.monotonic() - start


def invariants(dsn: str, keys: list[str]) -> dict[str, int]:
    """The counted invariants over ``keys`` (every one must be 0)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        lost = conn.execute(
            "SELECT count(*) FROM continuum_runs WHERE id = ANY(%s) AND state <> 'completed'",
            (keys,),
        ).fetchone()
        missing = len(keys) - int(
            conn.execute(
                "SELECT count(*) FROM continuum_runs WHERE id = ANY(%s)", (keys,)
            ).fetchone()[0]  # type: ignore[index]
        )
        dup_runs = conn.execute(
            "SELECT count(*) FROM (SELECT run_id FROM continuum_events"
            " WHERE type = 'run_completed' AND run_id = ANY(%s)"
            " GROUP BY run_id HAVING count(*) > 1) d",
            (keys,),
        ).fetchone()
        dup_outcomes = conn.execute(
            "SELECT count(*) FROM (SELECT run_id, ref_seq FROM continuum_events"
            " WHERE ref_seq IS NOT NULL AND run_id = ANY(%s)"
            " GROUP BY run_id, ref_seq HAVING count(*) > 1) d",
            (keys,),
        ).fetchone()
        dup_seq = conn.execute(
            "SELECT count(*) FROM (SELECT run_id, seq FROM continuum_events"
            " WHERE run_id = ANY(%s) GROUP BY run_id, seq HAVING count(*) > 1) d",
            (keys,),
        ).fetchone()
        over = conn.execute(
            "SELECT count(*) FROM (SELECT key, step FROM chaos_executions"
            " GROUP BY key, step HAVING count(*) > %s) d",
            (MAX_ATTEMPTS,),
        ).fetchone()
        executions = conn.execute("SELECT count(*) FROM chaos_executions").fetchone()
    assert lost and dup_runs and dup_outcomes and dup_seq and over and executions
    return {
        "lost": int(lost[0]) + missing,
        "duplicate_completions": int(dup_runs[0]) + int(dup_outcomes[0]) + int(dup_seq[0]),
        "over_max_attempts": int(over[0]),
        "activity_executions": int(executions[0]),
    }


class TakeoverClock:
    """Measures, per killed worker, the time until no run or task is leased to it."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.times: list[float] = []
        self._threads: list[threading.Thread] = []

    def killed(self, pid: int, at: float) -> None:
        thread = threading.Thread(target=self._watch, args=(pid, at), daemon=True)
        thread.start()
        self._threads.append(thread)

    def _watch(self, pid: int, at: float) -> None:
        pattern = f"%/{pid}/%"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            held = conn.execute(
                "SELECT (SELECT count(*) FROM continuum_runs WHERE lease_owner LIKE %s"
                " AND lease_token IS NOT NULL AND state IN ('running','suspended'))"
                " + (SELECT count(*) FROM continuum_activity_tasks WHERE lease_owner LIKE %s"
                " AND state = 'leased')",
                (pattern, pattern),
            ).fetchone()
            if not held or held[0] == 0:
                return  # it held nothing: nothing to take over
            while time.monotonic() - at < 120:
                left = conn.execute(
                    "SELECT (SELECT count(*) FROM continuum_runs WHERE lease_owner LIKE %s"
                    " AND lease_token IS NOT NULL AND lease_expires_at > now()"
                    " AND state IN ('running','suspended'))"
                    " + (SELECT count(*) FROM continuum_activity_tasks WHERE lease_owner LIKE %s"
                    " AND state = 'leased' AND lease_expires_at > now())",
                    (pattern, pattern),
                ).fetchone()
                if left and left[0] == 0:
                    self.times.append(time.monotonic() - at)
                    return
                time.sleep(0.05)

    def summary(self) -> dict[str, Any]:
        for thread in self._threads:
            thread.join(130)
        if not self.times:
            return {"takeovers": 0}
        return {
            "takeovers": len(self.times),
            "takeover_p50_s": round(percentile(self.times, 50), 2),
            "takeover_max_s": round(max(self.times), 2),
        }


def raw_errors_in(logs: str) -> int:
    """Tracebacks in worker logs that end in a raw psycopg error."""
    return sum(1 for line in logs.splitlines() if line.startswith("psycopg.errors."))
