"""Kill-chaos: workers SIGKILLed at random times, or crashing at named points.

    python bench/chaos/kill_chaos.py [--runs 1000] [--workers 4] [--kills 12] [--every 2.0]
    python bench/chaos/kill_chaos.py --crash-point after_side_effect [--probability 0.05]
    python bench/chaos/kill_chaos.py --small          # the CI size

Each run executes three activities (max_attempts 5) whose bodies log every execution.
With ``--crash-point`` (``after_side_effect``, ``after_journal_append``, ``after_claim``)
the workers crash by themselves (``os._exit``) at that point with the given probability
instead of being killed from outside; dead workers are replaced either way. Prints JSON:
runs, kills, lost, duplicate_completions, over_max_attempts, takeover p50/max.
"""

from __future__ import annotations

import argparse
import json
import time

from common import Cluster, TakeoverClock, chaos_database, invariants, start_runs, wait_terminal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--every", type=float, default=2.0)
    parser.add_argument("--crash-point", default=None)
    parser.add_argument("--probability", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--small", action="store_true", help="200 runs, 3 kills (CI)")
    args = parser.parse_args()
    if args.small:
        args.runs, args.kills, args.every = 200, 3, 1.0
    env = {}
    if args.crash_point:
        env = {
            "CONTINUUM_CRASH_POINT": args.crash_point,
            "CONTINUUM_CRASH_PROBABILITY": str(args.probability),
        }
    with chaos_database(args.dsn) as dsn:
        keys = [f"k{i:05d}" + ("-t" if i % 5 == 0 else "") for i in range(args.runs)]
        start_runs(dsn, keys)
        cluster = Cluster(dsn, env=env)
        clock = TakeoverClock(dsn)
        kills = crashes = 0
        began = time.monotonic()
        try:
            for _ in range(args.workers):
                cluster.spawn()
            deadline = time.monotonic() + args.timeout
            next_kill = time.monotonic() + args.every
            while time.monotonic() < deadline:
                done = wait_terminal(dsn, keys, 0.01) < 0.01
                if done:
                    break
                for proc in list(cluster.procs):
                    if proc.poll() is not None and proc.returncode == 137:
                        crashes += 1
                        proc.returncode = -1  # counted
                        clock.killed(proc.pid, time.monotonic())
                while len(cluster.live()) < args.workers:
                    cluster.spawn()
                if not args.crash_point and kills < args.kills and time.monotonic() >= next_kill:
                    pid, at = cluster.kill_random()
                    clock.killed(pid, at)
                    kills += 1
                    next_kill = time.monotonic() + args.every
                time.sleep(0.2)
            elapsed = time.monotonic() - began
            result = invariants(dsn, keys)
            takeover = clock.summary()
        finally:
            cluster.close()
    print(
        json.dumps(
            {
                "bench": "kill_chaos",
                "runs": args.runs,
                "workers": args.workers,
                "mode": f"crash point {args.crash_point}" if args.crash_point else "SIGKILL",
                "kills": kills,
                "crashes": crashes,
                "seconds": round(elapsed, 1),
                **result,
                **takeover,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
