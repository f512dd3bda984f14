"""Sequential steps: one workflow of N builtin activities in a row, and of N local ones.

    python bench/sequential.py [--dsn DSN] [--steps 100,1000] [--repeat 1]

Prints JSON. For each N (default 100 and 1,000; the issue's figures also use 10,000)
one run of ``bench.sequential_builtin`` (N ``execute`` calls of a builtin activity,
each waiting for the previous one) and one of ``bench.sequential_local`` (the same with
a ``local=True`` activity) are started and timed from the worker's start until the run
completed, on one worker with its default slots. Per step it reports:

- ``ms_per_step``: wall time / N;
- ``commits_per_step``: ``pg_stat_database.xact_commit`` delta / N (the benchmark's own
  reads are subtracted);
- ``worker_cpu_ms_per_step``: this process's CPU time (the worker runs in its threads)
  / N;
- ``postgres_cpu_ms_per_step``: CPU time of the server's processes (the postmaster
  serving ``--dsn`` and its children, read from ``/proc``) / N; ``null`` off Linux or
  when the server is on another host.

Targets (issue 17): builtin <= 1.0 ms/step at 1,000 steps; the 10,000-step figure
within 1.2x of the 100-step figure; builtin CPU (worker + PostgreSQL) <= 0.6 ms/step.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path
from typing import Any

import psycopg
from _scratch import scratch_database, server_settings, xact_commits

import continuum
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.activity(name="bench.seq_step")
def seq_step(i: int) -> int:
    """A trivial activity: the benchmark measures the machinery, not the body."""
    return i + 1


@continuum.activity(name="bench.seq_local_step", local=True)
def seq_local_step(i: int) -> int:
    """The same, run inline and journaled with the activation."""
    return i + 1


@continuum.workflow(name="bench.sequential_builtin")
def sequential_builtin(n: int) -> int:
    """``n`` builtin activities, each waiting for the previous one."""
    x = 0
    for _ in range(n):
        x = continuum.execute(seq_step, x)
    return x


@continuum.workflow(name="bench.sequential_local")
def sequential_local(n: int) -> int:
    """``n`` local activities in a row."""
    x = 0
    for _ in range(n):
        x = continuum.execute(seq_local_step, x)
    return x


def server_pid(dsn: str) -> int | None:
    """The postmaster's pid, when the server runs on this host and /proc shows it."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        if row is None:
            return None
        try:  # while the backend still exists (it exits when the connection closes)
            stat = Path(f"/proc/{int(row[0])}/stat").read_text()
        except OSError:
            return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the backend's parent


def server_cpu_s(postmaster: int | None) -> float | None:
    """CPU seconds used so far by ``postmaster`` and its live children (Linux)."""
    if postmaster is None:
        return None
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster or ppid == postmaster:
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def load_average() -> float | None:
    """The 1-minute load average (the machine is shared; read the figures with it)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def run_one(dsn: str, flow: Any, steps: int, postmaster: int | None) -> dict[str, Any]:
    """Start one run of ``flow`` with ``steps`` steps, time a fresh worker through it."""
    with Client(dsn, instance=f"bench-seq-{flow.name}-{steps}") as client:
        run_id = client.start(flow, steps)
        before = xact_commits(dsn)
        worker = Worker(client, workflows=[flow])
        polls = 0
        load = load_average()
        cpu_before, pg_before = time.process_time(), server_cpu_s(postmaster)
        started = time.monotonic()
        worker.start()
        with psycopg.connect(dsn, autocommit=True) as conn:
            while True:
                polls += 1
                row = conn.execute(
                    "SELECT state FROM continuum_runs WHERE id = %s", (run_id,)
                ).fetchone()
                if row is not None and row[0] in ("completed", "failed", "cancelled"):
                    break
                time.sleep(0.05)
        elapsed = time.monotonic() - started
        cpu, pg_after = time.process_time() - cpu_before, server_cpu_s(postmaster)
        state = row[0]
        sticky = getattr(worker, "sticky", None)
        sticky_stats = sticky.stats() if sticky is not None else None
        worker.stop()
        after = xact_commits(dsn)
    xacts = after - before - polls - 2  # the polls and the two stats reads are ours
    return {
        "steps": steps,
        "state": state,
        "seconds": round(elapsed, 3),
        "ms_per_step": round(elapsed / steps * 1000, 3),
        "commits_per_step": round(xacts / steps, 2),
        "worker_cpu_ms_per_step": round(cpu / steps * 1000, 3),
        "postgres_cpu_ms_per_step": (
            None
            if pg_before is None or pg_after is None
            else round((pg_after - pg_before) / steps * 1000, 3)
        ),
        "load_average_1m": load,
        "sticky": sticky_stats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument(
        "--steps", default="100,1000", help="comma-separated step counts (e.g. 100,1000,10000)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per (mode, N)")
    parser.add_argument("--modes", default="builtin,local")
    args = parser.parse_args()
    counts = [int(s) for s in args.steps.split(",") if s.strip()]
    flows = {"builtin": sequential_builtin, "local": sequential_local}
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    logging.basicConfig(level=logging.ERROR)
    out: dict[str, Any] = {"benchmark": "sequential"}
    with scratch_database(args.dsn) as dsn:
        postmaster = server_pid(dsn)
        out["server"] = server_settings(dsn)
        for mode in modes:
            out[mode] = [
                run_one(dsn, flows[mode], n, postmaster) for n in counts for _ in range(args.repeat)
            ]
    out["targets"] = {
        "builtin_ms_per_step_at_1000": 1.0,
        "flat": "ms/step at 10,000 within 1.2x of 100",
        "builtin_cpu_ms_per_step": 0.6,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
