"""``bench/throughput.py --processes 1,2,4``: the same workload on N worker processes.

Each trial runs ``continuum worker bench/throughput.py --processes N`` as a subprocess
(for N > 1: a supervisor and N fresh child workers), exactly as an operator would. The
runs are inserted first and *held* (``next_wakeup_at = 'infinity'``) until every child
printed its banner, then released in one UPDATE (plus two wake-ups, which make each
dispatcher batch-claim): the clock measures the workers' throughput, not interpreter
start-up. CPU per step sums the worker processes and this server's backends (psutil).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg
from _scratch import xact_commits

from continuum.client import Client

HERE = Path(__file__).resolve().parent


class WorkerTree:
    """``continuum worker --processes N`` as a subprocess, its stderr read in a thread."""

    def __init__(self, dsn: str, processes: int, max_runs: int, max_activities: int) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "continuum.cli",
                "worker",
                str(HERE / "throughput.py"),
                f"--processes={processes}",
                f"--dsn={dsn}",
                f"--max-runs={max_runs}",
                f"--max-activities={max_activities}",
                f"--instance=bench-p{processes}",
            ],
            cwd=HERE.parent,
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

    def wait_ready(self, processes: int, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while sum("Ctrl-C to stop" in line for line in self.lines) < processes:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("workers did not start:\n" + "\n".join(self.lines))
            time.sleep(0.05)

    def workers(self) -> list[psutil.Process]:
        """The processes doing the work: the children, or the process itself for N = 1."""
        me = psutil.Process(self.proc.pid)
        return me.children() or [me]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self._reader.join(5)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        return code


def _cpu(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def server_cpu(dsn: str) -> Any:
    """A function returning the CPU seconds used so far by *this* server (postmaster,
    its live backends, and the backends it has reaped), or None when it is not on this
    host. Unlike summing every ``postgres`` process, it ignores other servers here."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    try:
        postmaster = psutil.Process(int(row[0]) if row else -1).parent()
    except (psutil.Error, ValueError):
        postmaster = None
    if postmaster is None or "postgres" not in postmaster.name():
        return lambda: None

    def used() -> float | None:
        try:
            own = postmaster.cpu_times()
            total = own.user + own.system + own.children_user + own.children_system
            return total + _cpu(postmaster.children())
        except psutil.Error:
            return None

    return used


def trial(
    dsn: str,
    flow: Any,
    processes: int,
    runs: int,
    max_runs: int,
    max_activities: int,
    postgres_cpu_s: Any,
) -> dict[str, Any]:
    """One timed trial of ``runs`` runs of ``flow`` on ``processes`` worker processes."""
    tag = f"p{processes}-{time.monotonic_ns()}"
    with Client(dsn, instance=f"bench-{tag}") as client:
        ids = [client.start(flow, i, id=f"{flow.name}-{tag}-{i}") for i in range(runs)]
    prefix = f"{flow.name}-{tag}-%"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            "UPDATE continuum_runs SET next_wakeup_at = 'infinity' WHERE id LIKE %s", (prefix,)
        )
    tree = WorkerTree(dsn, processes, max_runs, max_activities)
    try:
        tree.wait_ready(processes)
        workers = tree.workers()
        before = xact_commits(dsn)
        cpu_before, pg_before = _cpu(workers), postgres_cpu_s()
        polls = 0
        with psycopg.connect(dsn, autocommit=True) as conn:
            started = time.monotonic()
            conn.execute(
                "UPDATE continuum_runs SET next_wakeup_at = now() WHERE id LIKE %s", (prefix,)
            )
            for run_id in ids[:2]:
                conn.execute("SELECT pg_notify('continuum_run_wake', %s)", (run_id,))
            while True:
                polls += 1
                row = conn.execute(
                    "SELECT count(*) FROM continuum_runs WHERE state = 'completed' AND id LIKE %s",
                    (prefix,),
                ).fetchone()
                if row and row[0] == runs:
                    break
                time.sleep(0.02)
            elapsed = time.monotonic() - started
        cpu, pg_after = _cpu(workers) - cpu_before, postgres_cpu_s()
        after = xact_commits(dsn)
    finally:
        code = tree.stop()
    steps = runs * 3
    xacts = after - before - polls - 3  # the bench's own: polls, release, notifies
    return {
        "processes": processes,
        "runs": runs,
        "seconds": round(elapsed, 3),
        "workflows_per_s": round(runs / elapsed, 1),
        "steps_per_s": round(steps / elapsed, 1),
        "transactions_per_step": round(xacts / steps, 2),
        "worker_cpu_ms_per_step": round(cpu / steps * 1000, 3),
        "postgres_cpu_ms_per_step": (
            None
            if pg_before is None or pg_after is None
            else round((pg_after - pg_before) / steps * 1000, 3)
        ),
        "exit_code": code,
    }


def scaling(
    dsn: str,
    flows: dict[str, Any],
    counts: list[int],
    *,
    runs: int,
    repeat: int,
    max_runs: int,
    max_activities: int,
    limit: float,
) -> dict[str, Any]:
    """Every mode x process count x repeat; ranges, and ratios to 1 process and the limit."""
    out: dict[str, Any] = {}
    postgres_cpu_s = server_cpu(dsn)
    for mode, flow in flows.items():
        rows: dict[str, Any] = {}
        for _ in range(repeat):  # interleaved, so a busy spell on the machine hits all counts
            for n in counts:
                got = trial(dsn, flow, n, runs, max_runs, max_activities, postgres_cpu_s)
                rows.setdefault(str(n), {"trials": []})["trials"].append(got)
        base = _median([t["workflows_per_s"] for t in rows[str(counts[0])]["trials"]])
        for row in rows.values():
            rates = [t["workflows_per_s"] for t in row["trials"]]
            steps = [t["steps_per_s"] for t in row["trials"]]
            row["workflows_per_s_range"] = [min(rates), max(rates)]
            row["fraction_of_commit_limit_range"] = [
                round(min(steps) / limit, 3),
                round(max(steps) / limit, 3),
            ]
            row[f"median_vs_{counts[0]}_process"] = round(_median(rates) / base, 2)
        out[mode] = rows
    return out


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
