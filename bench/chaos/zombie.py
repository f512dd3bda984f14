"""Zombie: a worker frozen with SIGSTOP in the middle of its work, then resumed.

    python bench/chaos/zombie.py [--runs 200] [--freeze 15] [--small]

While it is frozen, the other workers must take over its runs and tasks (its row locks
are released when the server ends its idle transaction), their own heartbeats must stay
fresh, and when it wakes up its late writes must be fenced: no run lost, nothing
completed twice, no activity over max_attempts. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import signal
import time

import psycopg
from common import Cluster, TakeoverClock, chaos_database, invariants, start_runs, wait_terminal


def _heartbeat_ages(dsn: str, frozen_pid: int) -> float:
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT coalesce(max(extract(epoch FROM now() - heartbeat_at)), 0)"
            " FROM continuum_workers WHERE id NOT LIKE %s",
            (f"%/{frozen_pid}/%",),
        ).fetchone()
    return float(row[0]) if row else 0.0


def _wait_until_holding(dsn: str, pid: int, timeout: float = 30.0) -> None:
    pattern = f"%/{pid}/%"
    deadline = time.monotonic() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM continuum_runs WHERE lease_owner LIKE %s"
                " AND lease_token IS NOT NULL) + (SELECT count(*) FROM continuum_activity_tasks"
                " WHERE lease_owner LIKE %s AND state = 'leased')",
                (pattern, pattern),
            ).fetchone()
            if row and row[0] > 0:
                return
            time.sleep(0.01)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--freeze", type=float, default=15.0)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--small", action="store_true", help="120 runs, 12 s freeze (CI)")
    args = parser.parse_args()
    if args.small:
        args.runs, args.freeze = 120, 12.0
    with chaos_database(args.dsn) as dsn:
        keys = [f"z{i:05d}" for i in range(args.runs)]
        start_runs(dsn, keys)
        cluster = Cluster(dsn)
        clock = TakeoverClock(dsn)
        ages: list[float] = []
        try:
            procs = [cluster.spawn() for _ in range(args.workers)]
            frozen = procs[0]
            _wait_until_holding(dsn, frozen.pid)  # freeze it with work in its hands
            frozen.send_signal(signal.SIGSTOP)
            stopped_at = time.monotonic()
            clock.killed(frozen.pid, stopped_at)
            while time.monotonic() - stopped_at < args.freeze:
                ages.append(_heartbeat_ages(dsn, frozen.pid))
                time.sleep(0.5)
            frozen.send_signal(signal.SIGCONT)
            wait_terminal(dsn, keys, args.timeout)
            result = invariants(dsn, keys)
            takeover = clock.summary()
        finally:
            cluster.close()
    print(
        json.dumps(
            {
                "bench": "zombie",
                "runs": args.runs,
                "workers": args.workers,
                "frozen_s": args.freeze,
                "healthy_heartbeat_age_max_s": round(max(ages, default=0.0), 2),
                **result,
                **takeover,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
