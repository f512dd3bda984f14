"""Queue admission overhead: what `start(..., queue=)` costs over a plain start.

    python bench/queue_admission.py [--dsn DSN] [--runs 500]

Prints JSON. No worker runs, so nothing but the start path is measured:

- ``unqueued``: ``Client.start`` without a queue (the baseline);
- ``queued_admitted``: on a queue with room, so each start is admitted in its own
  transaction (queue row lock, the counting statement, the admission update);
- ``queued_waiting``: on a full queue (concurrency 1), so each start stays ``queued``
  (the admission pass finds no room) while the backlog grows;
- ``bulk_admission``: raising that queue's limit admits the whole backlog in one
  ``configure_queue`` call: per admitted run.

``overhead_ms`` is the p50 of each queued case minus the p50 of ``unqueued``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from _scratch import percentile, scratch_database, server_settings

import continuum
from continuum.client import Client


@continuum.workflow(name="bench.queued_noop")
def noop(n: int) -> int:
    """Never runs here: the bench measures starts only."""
    return n


def _starts(client: Client, runs: int, **kwargs: Any) -> dict[str, float]:
    times: list[float] = []
    for i in range(runs):
        t0 = time.perf_counter()
        client.start(noop, i, **kwargs)
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "p50_ms": round(percentile(times, 50), 3),
        "p99_ms": round(percentile(times, 99), 3),
        "mean_ms": round(sum(times) / len(times), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    with scratch_database(args.dsn) as dsn, Client(dsn) as client:
        client.start(noop, -1)  # connect and warm the pool
        client.configure_queue("roomy", concurrency=args.runs * 4)
        client.configure_queue("full", concurrency=1)
        unqueued = _starts(client, args.runs)
        admitted = _starts(client, args.runs, queue="roomy")
        waiting = _starts(client, args.runs, queue="full")
        t0 = time.perf_counter()
        client.configure_queue("full", concurrency=args.runs * 4)
        bulk_ms = (time.perf_counter() - t0) * 1000
        [full] = [q for q in client.queues() if q.name == "full"]
        assert full.queued == 0, "bulk admission left runs queued"
        settings = server_settings(dsn)
    result = {
        "runs": args.runs,
        "server": settings,
        "unqueued": unqueued,
        "queued_admitted": {
            **admitted,
            "overhead_ms": round(admitted["p50_ms"] - unqueued["p50_ms"], 3),
        },
        "queued_waiting": {
            **waiting,
            "overhead_ms": round(waiting["p50_ms"] - unqueued["p50_ms"], 3),
        },
        "bulk_admission": {"runs": args.runs, "per_run_ms": round(bulk_ms / args.runs, 4)},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
