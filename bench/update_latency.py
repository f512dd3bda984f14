"""Update round trip: ``Client.update`` -> the workflow accepts, replies -> the caller returns.

    python bench/update_latency.py [--dsn DSN] [--updates 300] [--warmup 20]

Prints JSON. Target: round trip p50 <= 10 ms.

One run chain sits in ``wait_update("ping")`` in a loop and replies to each request at
once (continuing as new every 50 requests).
The clock starts when ``Client.update`` is called and stops when it returns the reply,
so a sample covers: inserting the request and waking the run (NOTIFY), the worker
claiming and loading it, one activation (accept + reply, journaled), its commit with
the answer's NOTIFY, and the client's re-read of the answer. Requests are sequential
(one in flight), against one worker; ``--warmup`` requests are not counted.
"""

from __future__ import annotations

import argparse
import json
import time

from _scratch import percentile, scratch_database, server_settings

import continuum
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow(name="bench.echo_updates")
def echo_updates(limit: int) -> int:
    """Answers ping updates with their payload plus one, ``limit`` in all.

    Like any long-lived entity workflow it continues as new every 50 requests, so its
    history (replayed on each activation) stays short.
    """
    for _ in range(min(limit, 50)):
        upd = continuum.wait_update("ping")
        continuum.reply(upd, int(upd.payload) + 1)
    if limit > 50:
        continuum.continue_as_new(limit - 50)
    return limit


def update_round_trips(client: Client, n: int, warmup: int) -> list[float]:
    run_id = client.start(echo_updates, n + warmup + 1)
    samples: list[float] = []
    for i in range(n + warmup):
        t0 = time.perf_counter()
        reply = client.update(run_id, "ping", i, timeout=30)
        elapsed = (time.perf_counter() - t0) * 1000
        if reply != i + 1:
            raise AssertionError(f"update {i} answered {reply!r}")
        if i >= warmup:
            samples.append(elapsed)
    client.cancel(run_id)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--updates", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args()
    with scratch_database(args.dsn) as dsn:
        settings = server_settings(dsn)
        with Client(dsn) as client, Worker(client, workflows=[echo_updates], max_runs=8):
            samples = update_round_trips(client, args.updates, args.warmup)
    out = {
        "benchmark": "update_latency",
        "updates": len(samples),
        "round_trip_ms": {
            "p50": round(percentile(samples, 50), 2),
            "p90": round(percentile(samples, 90), 2),
            "p99": round(percentile(samples, 99), 2),
            "max": round(max(samples), 2),
        },
        "target_p50_ms": 10.0,
        "met": percentile(samples, 50) <= 10.0,
        "server": settings,
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
