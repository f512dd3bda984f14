"""Replay hot path: µs per event to replay a 12,500-event mixed history.

    python bench/replay_hot_path.py [--events 12500] [--repeat 5]

Prints JSON. The history mixes side effects, activities (local, so the whole history
records in one activation), timers, signals (delivered before the wait, the fast path)
and clock reads. Replay is measured at a quarter and at the full size to show that cost
is linear in history length.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import continuum
from continuum.definitions.workflow import Workflow
from continuum.journal.records import NewRun
from continuum.testing import WorkflowEnvironment, replay

EVENTS_PER_ROUND = 7  # side_effect, activity x2, timer x2, signal, now


@continuum.activity(local=True, name="bench.add")
def add(a: int, b: int) -> int:
    return a + b


def _loop(rounds: int) -> int:
    total = 0
    for i in range(rounds):
        total += continuum.side_effect(lambda i=i: i)
        total += continuum.execute(add, i, 1)
        continuum.sleep(0)
        total += int(continuum.wait_signal("tick"))
        continuum.now()
    return total


def _flow() -> Workflow[int, int]:
    return Workflow(_loop, name="bench.mixed")


def record(rounds: int) -> list[dict[str, Any]]:
    env = WorkflowEnvironment()
    flow = _flow()
    env._workflows[flow.name] = flow
    run_id = f"bench-{rounds}"
    env.journal.create_run(NewRun(run_id, flow.name, flow.version_hash, rounds))
    for _ in range(rounds):
        env.journal.send_signal(run_id, "tick", 1)
    env.run_until_idle()
    assert env.get_run(run_id).state == "completed", env.get_run(run_id)
    return env.history(run_id)


def measure(history: list[dict[str, Any]], repeat: int) -> float:
    flow = _flow()
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        outcome = replay(flow, history)
        timings.append(time.perf_counter() - started)
        assert outcome.state == "completed"
    return min(timings)  # the least-disturbed run, as timeit does


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=12_500)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    rounds = max(args.events // EVENTS_PER_ROUND, 1)
    full = record(rounds)
    quarter = record(max(rounds // 4, 1))
    t_full = measure(full, args.repeat)
    t_quarter = measure(quarter, args.repeat)
    print(
        json.dumps(
            {
                "benchmark": "replay_hot_path",
                "events": len(full),
                "replay_ms": round(t_full * 1000, 2),
                "us_per_event": round(t_full * 1e6 / len(full), 3),
                "quarter_events": len(quarter),
                "quarter_us_per_event": round(t_quarter * 1e6 / len(quarter), 3),
                "linearity_ratio": round((t_full / len(full)) / (t_quarter / len(quarter)), 3),
                "target_us_per_event": 3.0,
                "python": platform.python_version(),
                "repeat": args.repeat,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
