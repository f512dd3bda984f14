"""Observer: how fast the run detail page of a long history opens.

    python bench/observer_detail.py [--dsn DSN] [--events 20000] [--requests 20]

Prints JSON. Target: a 20,000-event run's detail page opens in < 1 s.

A workflow journals ``--events`` events in one activation (``continuum.random()`` side
effects); then the Observer app (in process, over Starlette's test client, so the
figure is the server's work: queries, effects scan, rendering) serves ``GET /runs/{id}``
``--requests`` times, plus the live-update feed and the JSON twin's first page.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from typing import Any

from _scratch import percentile, scratch_database
from starlette.testclient import TestClient

import continuum
import continuum.observer
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow(name="bench.Chatty")
def chatty(n: int) -> int:
    total = 0
    for _ in range(n):
        total += int(continuum.random() * 10)
    return total


def _timed(http: TestClient, path: str, requests: int) -> dict[str, Any]:
    times: list[float] = []
    size = 0
    for _ in range(requests):
        started = time.perf_counter()
        answer = http.get(path)
        times.append(time.perf_counter() - started)
        assert answer.status_code == 200, answer.text[:500]
        size = len(answer.content)
    return {
        "first_s": round(times[0], 4),
        "p50_s": round(percentile(times, 50), 4),
        "max_s": round(max(times), 4),
        "bytes": size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with scratch_database(args.dsn) as dsn, Client(dsn, instance="bench-observer") as client:
        with Worker(client, workflows=[chatty]):
            run_id = client.start(chatty, args.events - 2)  # + run_started, run_completed
            client.result(run_id, timeout=600)
        events = client.journal.run_detail(run_id).last_seq
        http = TestClient(continuum.observer.app(client))
        detail = _timed(http, f"/runs/{run_id}", args.requests)
        oldest = _timed(http, f"/runs/{run_id}?after_seq=0", args.requests)
        live = _timed(http, f"/runs/{run_id}/live?after_seq={events}", args.requests)
        api_page = _timed(http, f"/api/runs/{run_id}?after_seq=0&limit=200", args.requests)
        index = _timed(http, "/", args.requests)
    print(
        json.dumps(
            {
                "benchmark": "observer_detail",
                "events": events,
                "run_detail_newest_window": detail,
                "run_detail_oldest_window": oldest,
                "live_feed": live,
                "api_run_first_page": api_page,
                "runs_index": index,
                "targets": {"run_detail_s": 1.0},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
