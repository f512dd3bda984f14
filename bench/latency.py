"""Latency: signal -> resume, timer lateness, dead-worker takeover.

    python bench/latency.py [--dsn DSN] [--signals 200] [--timers 200] [--takeovers 3]

Prints JSON. Targets: signal->resume p50 <= 5 ms, timer lateness p99 <= 50 ms,
dead-worker takeover <= 5 s.

- signal -> resume: a run is suspended in ``wait_signal``; the clock starts when
  ``Client.signal`` is called and stops when the worker has committed the activation
  that consumed it (the ``run.completed`` telemetry event, emitted after the commit).
- timer lateness: runs sleep 0.5-4 s; lateness is the commit time of the activation
  that fired the timer minus the timer's journaled ``fire_at`` (same host, same clock).
- takeover: a worker subprocess is SIGKILLed in the middle of an activity attempt;
  the time until a surviving worker starts the next attempt.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _scratch import percentile, scratch_database

import continuum
from continuum import seconds, telemetry
from continuum.client import Client
from continuum.runtime.worker import Worker

REPO = Path(__file__).resolve().parents[1]


@continuum.workflow(name="bench.await_ping")
def await_ping() -> str:
    """Suspends until a ``ping`` signal arrives."""
    return str(continuum.wait_signal("ping"))


@continuum.workflow(name="bench.nap")
def nap(duration_s: float) -> None:
    """Sleeps on a durable timer."""
    continuum.sleep(seconds(duration_s))


def _wait_suspended(client: Client, run_id: str) -> None:
    while client.get_run(run_id).state != continuum.RunState.SUSPENDED:
        time.sleep(0.005)


def signal_latency(client: Client, n: int) -> dict[str, float]:
    done: dict[str, float] = {}
    cond = threading.Condition()

    def on_completed(_event: str, meta: dict[str, Any]) -> None:
        with cond:
            done[meta["run_id"]] = time.perf_counter()
            cond.notify_all()

    handler = telemetry.attach("run.completed", on_completed)
    samples: list[float] = []
    try:
        for i in range(n):
            run_id = client.start(await_ping, id=f"ping-{i}")
            _wait_suspended(client, run_id)
            t0 = time.perf_counter()
            client.signal(run_id, "ping", i)
            with cond:
                cond.wait_for(lambda run_id=run_id: run_id in done, timeout=10)
            samples.append((done[run_id] - t0) * 1000)
    finally:
        telemetry.detach(handler)
    return {
        "samples": n,
        "p50_ms": round(percentile(samples, 50), 2),
        "p99_ms": round(percentile(samples, 99), 2),
    }


def timer_lateness(client: Client, n: int) -> dict[str, float]:
    finished: dict[str, datetime] = {}
    lock = threading.Lock()

    def on_completed(_event: str, meta: dict[str, Any]) -> None:
        with lock:
            finished[meta["run_id"]] = datetime.now(UTC)

    handler = telemetry.attach("run.completed", on_completed)
    try:
        ids = [client.start(nap, random.uniform(0.5, 4.0), id=f"nap-{i}") for i in range(n)]
        deadline = time.monotonic() + 30
        while len(finished) < n and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        telemetry.detach(handler)
    late: list[float] = []
    for run_id in ids:
        fire = next(e for e in client.history(run_id) if e["type"] == "timer_started")
        fire_at = datetime.fromisoformat(fire["data"]["fire_at"])
        late.append((finished[run_id] - fire_at).total_seconds() * 1000)
    return {
        "samples": n,
        "p50_ms": round(percentile(late, 50), 2),
        "p99_ms": round(percentile(late, 99), 2),
        "max_ms": round(max(late), 2),
    }


TAKEOVER_MODULE = """
import os, time
import continuum
from continuum import seconds

@continuum.activity(name="bench.hang_once", max_attempts=2,
                    backoff=continuum.Backoff(initial=seconds(0.01)))
def hang_once(log: str) -> None:
    with open(log, "a") as f:
        f.write(f"{time.time()}\\n")
    if os.environ.get("BENCH_VICTIM") == "1":
        time.sleep(300)

@continuum.workflow(name="bench.takeover")
def takeover(log: str) -> None:
    continuum.execute(hang_once, log)
"""


def takeover(dsn: str, rounds: int) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="continuum-bench-"))
    (tmp / "bench_takeover.py").write_text(TAKEOVER_MODULE)
    sys.path.insert(0, str(tmp))
    import bench_takeover  # type: ignore[import-not-found]

    env = {**os.environ, "PYTHONPATH": f"{tmp}{os.pathsep}{REPO}", "BENCH_VICTIM": "1"}
    main = "import sys; from continuum.cli.worker_commands import worker_command; worker_command()"
    times: list[float] = []
    with Client(dsn, instance="bench-takeover") as client:
        survivor = Worker(client, workflows=[bench_takeover.takeover], activities=[])
        with survivor:
            for k in range(rounds):
                log = tmp / f"attempts-{k}.log"
                victim = subprocess.Popen(
                    [sys.executable, "-c", main, "bench_takeover", "--dsn", dsn],
                    cwd=tmp,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                time.sleep(2.0)  # let the victim register and start polling
                # Only the victim may pick the first attempt: pause the survivor's pool.
                survivor.activities.max_activities = 0
                client.start(bench_takeover.takeover, str(log), id=f"takeover-{k}")
                while not log.exists():
                    time.sleep(0.01)
                survivor.activities.max_activities = 8
                killed = time.time()
                victim.send_signal(signal.SIGKILL)
                victim.wait()
                client.result(f"takeover-{k}", timeout=60)
                attempts = [float(x) for x in log.read_text().split()]
                times.append(attempts[1] - killed)
    return {
        "rounds": rounds,
        "seconds": [round(t, 2) for t in times],
        "max_s": round(max(times), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--signals", type=int, default=200)
    parser.add_argument("--timers", type=int, default=200)
    parser.add_argument("--takeovers", type=int, default=3)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with scratch_database(args.dsn) as dsn:
        with (
            Client(dsn, instance="bench-latency") as client,
            Worker(client, workflows=[await_ping, nap], max_runs=8),
        ):
            sig = signal_latency(client, args.signals)
            tim = timer_lateness(client, args.timers)
        take = takeover(dsn, args.takeovers)
    print(
        json.dumps(
            {
                "benchmark": "latency",
                "signal_to_resume": sig,
                "timer_lateness": tim,
                "dead_worker_takeover": take,
                "targets": {
                    "signal_to_resume_p50_ms": 5,
                    "timer_lateness_p99_ms": 50,
                    "takeover_s": 5,
                },
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
