"""PostgreSQL restarts: the server is restarted (fast shutdown) several times mid-run.

    python bench/chaos/pg_restart.py [--runs 300] [--restarts 3] [--small]

Runs on an embedded server of its own (the script restarts it, so it never touches the
server you pass elsewhere). Workers must recover by themselves: every run completes,
nothing twice, no activity over max_attempts. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import Cluster, chaos_database, invariants, start_runs, wait_terminal

from continuum.db.embedded import start_embedded, stop_embedded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--every", type=float, default=4.0)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--small", action="store_true", help="200 runs, 2 restarts (CI)")
    args = parser.parse_args()
    if args.small:
        args.runs, args.restarts, args.every = 200, 2, 2.0
    home = Path(tempfile.mkdtemp(prefix="continuum-chaos-pg-"))
    admin = start_embedded(home=home, database="postgres")
    downtime: list[float] = []
    try:
        with chaos_database(admin) as dsn:
            keys = [f"r{i:05d}" + ("-t" if i % 4 == 0 else "") for i in range(args.runs)]
            start_runs(dsn, keys)
            cluster = Cluster(dsn)
            try:
                for _ in range(3):
                    cluster.spawn()
                cluster.wait_registered(3)  # restarts hit running workers, not booting ones
                for _ in range(args.restarts):
                    time.sleep(args.every)
                    down = time.monotonic()
                    stop_embedded(home=home)
                    time.sleep(1.0)
                    start_embedded(home=home, database="postgres")
                    downtime.append(time.monotonic() - down)
                elapsed = wait_terminal(dsn, keys, args.timeout)
                result = invariants(dsn, keys)
                alive = len(cluster.live())
            finally:
                cluster.close()
    finally:
        stop_embedded(home=home)
    print(
        json.dumps(
            {
                "bench": "pg_restart",
                "runs": args.runs,
                "restarts": args.restarts,
                "downtime_s": [round(d, 1) for d in downtime],
                "workers_alive_at_end": alive,
                "seconds_after_last_restart": round(elapsed, 1),
                **result,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
