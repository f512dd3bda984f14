"""Ambiguous commits: worker connections dropped at random, including right after a
COMMIT was sent, so the worker cannot know whether it landed.

    python bench/chaos/ambiguous_commit.py [--runs 200] [--every 0.1] [--small]

A killer terminates a random worker session (``pg_terminate_backend``; not the LISTEN
ones) every ``--every`` seconds while runs with activities and timers execute. Whatever
the worker retries, the journal must hold each event once: no duplicate rows (seq or
outcome), no timer fired twice, no run lost, no activity over max_attempts. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import threading

import psycopg
from common import Cluster, chaos_database, invariants, start_runs, wait_terminal


def _drop_connections(dsn: str, every: float, stop: threading.Event, dropped: list[int]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.wait(every * random.uniform(0.5, 1.5)):
            row = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND application_name LIKE 'continuum%%'"
                " AND application_name NOT LIKE 'continuum-listener%%'"
                " AND state IN ('active', 'idle in transaction')"
                " ORDER BY random() LIMIT 1"
            ).fetchone()
            if row:
                dropped.append(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--every", type=float, default=0.1)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--small", action="store_true", help="60 runs (CI)")
    args = parser.parse_args()
    if args.small:
        args.runs = 60
    dropped: list[int] = []
    with chaos_database(args.dsn) as dsn:
        keys = [f"a{i:05d}-t" for i in range(args.runs)]  # every run also sleeps on a timer
        start_runs(dsn, keys)
        cluster = Cluster(dsn)
        stop = threading.Event()
        killer = threading.Thread(target=_drop_connections, args=(dsn, args.every, stop, dropped))
        try:
            for _ in range(3):
                cluster.spawn()
            cluster.wait_registered(3)
            killer.start()
            elapsed = wait_terminal(dsn, keys, args.timeout)
            stop.set()
            killer.join(10)
            result = invariants(dsn, keys)
            with psycopg.connect(dsn, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM (SELECT run_id, ref_seq FROM continuum_events"
                    " WHERE type = 'timer_fired' GROUP BY run_id, ref_seq"
                    " HAVING count(*) > 1) d"
                ).fetchone()
            timers_twice = int(row[0]) if row else 0
        finally:
            stop.set()
            cluster.close()
    print(
        json.dumps(
            {
                "bench": "ambiguous_commit",
                "runs": args.runs,
                "connections_dropped": len(dropped),
                "seconds": round(elapsed, 1),
                "timers_fired_twice": timers_twice,
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
