"""Idempotency race: many runs execute the same activity with the same idempotency key at
the same time, on several worker processes.

    python bench/chaos/idempotency_race.py [--keys 40] [--runs-per-key 8] [--small]

Every body execution is logged; each key's body must run exactly once, and every run of
a key must get that one result. Prints JSON (duplicate_idempotent_executions must be 0).
"""

from __future__ import annotations

import argparse
import json

import psycopg
from common import Cluster, chaos_database, invariants, start_runs, wait_terminal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--keys", type=int, default=40)
    parser.add_argument("--runs-per-key", type=int, default=8)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--small", action="store_true", help="10 keys x 8 runs (CI)")
    args = parser.parse_args()
    if args.small:
        args.keys = 10
    with chaos_database(args.dsn) as dsn:
        keys = [f"key{k:04d}-{r}" for k in range(args.keys) for r in range(args.runs_per_key)]
        cluster = Cluster(dsn)
        try:
            for _ in range(args.workers):
                cluster.spawn()
            cluster.wait_registered(args.workers)
            start_runs(dsn, keys, "chaos.shared_key")
            elapsed = wait_terminal(dsn, keys, args.timeout)
            result = invariants(dsn, keys)
            with psycopg.connect(dsn, autocommit=True) as conn:
                row = conn.execute(
                    "SELECT coalesce(sum(n - 1), 0), count(*) FROM (SELECT key, count(*) AS n"
                    " FROM chaos_executions WHERE step = 200 GROUP BY key) d"
                ).fetchone()
                results = conn.execute(
                    "SELECT count(*) FROM (SELECT split_part(id, '-', 1) AS shared,"
                    " count(DISTINCT result) AS n FROM continuum_runs WHERE id = ANY(%s)"
                    " GROUP BY 1) d WHERE n > 1",
                    (keys,),
                ).fetchone()
        finally:
            cluster.close()
    assert row and results
    print(
        json.dumps(
            {
                "bench": "idempotency_race",
                "keys": args.keys,
                "runs_per_key": args.runs_per_key,
                "workers": args.workers,
                "seconds": round(elapsed, 1),
                "keys_executed": int(row[1]),
                "duplicate_idempotent_executions": int(row[0]),
                "keys_with_differing_results": int(results[0]),
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
