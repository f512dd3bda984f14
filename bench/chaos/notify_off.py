"""LISTEN connections killed every 2 s, or NOTIFY effectively gone: every wake-up must
still happen, within the poll backstop.

    python bench/chaos/notify_off.py [--runs 60] [--kill-every 2.0] [--small]
    python bench/chaos/notify_off.py --no-notify     # listeners killed every 0.2 s

Runs wait for a signal; the script signals them one by one while it terminates the
workers' LISTEN sessions (``pg_terminate_backend``). Reports signal → completion
latency (p50, max) against the worker's 5 s signal backstop. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import threading
import time

import psycopg
from common import Cluster, chaos_database, invariants, percentile, start_runs, workload_flow

from continuum.client import Client

BACKSTOP_S = 5.0


def _kill_listeners(dsn: str, every: float, stop: threading.Event, killed: list[int]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        while not stop.wait(every):
            rows = conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name LIKE 'continuum-listener%%'"
                " AND datname = current_database()"
            ).fetchall()
            killed.append(len(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--kill-every", type=float, default=2.0)
    parser.add_argument("--no-notify", action="store_true")
    parser.add_argument("--small", action="store_true", help="20 runs (CI)")
    args = parser.parse_args()
    if args.small:
        args.runs = 20
    every = 0.2 if args.no_notify else args.kill_every
    latencies: list[float] = []
    killed: list[int] = []
    with chaos_database(args.dsn) as dsn:
        keys = [f"n{i:04d}" for i in range(args.runs)]
        start_runs(dsn, keys, "chaos.waiter")
        cluster = Cluster(dsn)
        stop = threading.Event()
        killer = threading.Thread(target=_kill_listeners, args=(dsn, every, stop, killed))
        try:
            for _ in range(2):
                cluster.spawn()
            cluster.wait_registered(2)
            killer.start()
            waiter = workload_flow("chaos.waiter")
            with Client(dsn) as client:
                for key in keys:
                    while client.get_run(key).state.value != "suspended":
                        time.sleep(0.02)
                    sent = time.monotonic()
                    client.signal(key, "go", key)
                    client.result(key, timeout=60)
                    latencies.append(time.monotonic() - sent - 0.2)  # minus the 0.2 s sleep
            assert waiter is not None
            result = invariants(dsn, keys)
        finally:
            stop.set()
            if killer.is_alive():
                killer.join(10)
            cluster.close()
    print(
        json.dumps(
            {
                "bench": "notify_off",
                "mode": "listeners killed every 0.2 s" if args.no_notify else f"every {every} s",
                "runs": args.runs,
                "listener_sessions_killed": sum(killed),
                "wake_latency_p50_s": round(percentile(latencies, 50), 3),
                "wake_latency_max_s": round(max(latencies), 3),
                "backstop_s": BACKSTOP_S,
                "late_wakes": sum(1 for v in latencies if v > BACKSTOP_S + 1.0),
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
