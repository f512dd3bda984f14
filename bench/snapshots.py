"""Snapshots: what resuming a long run costs with and without a snapshot.

    python bench/snapshots.py [--dsn DSN] [--events 20000] [--repeat 7]

Prints JSON. One run journals ``--events`` events in its first activation (side effects)
and suspends on a signal; the worker's snapshotter stores a snapshot at that point.
Then the resume path is timed directly, as a worker runs it: ``load_activation`` (the
one statement that reads the run's history) and ``activate`` (re-executing the workflow
over it), first with the snapshot, then with the snapshot removed (full history).
``rows_read`` is what the load reads: snapshot rows plus event rows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from _scratch import scratch_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import continuum
from continuum.engine.activation import activate
from continuum.journal.postgres import PostgresJournal


def _long(n: int) -> int:
    total = 0
    for i in range(n):
        total += continuum.side_effect(lambda i=i: i)
    return total + int(continuum.wait_signal("go"))


def _measure(journal: PostgresJournal, flow: Any, run_id: str, repeat: int) -> dict[str, Any]:
    loads, replays = [], []
    inp = None
    for _ in range(repeat):
        lease = journal.claim_run(run_id, "bench-snapshots")
        assert lease is not None
        t0 = time.perf_counter()
        inp = journal.load_activation(lease)
        t1 = time.perf_counter()
        result = activate(flow, inp)
        t2 = time.perf_counter()
        journal.release_run(lease, timedelta(0))
        assert result.outcome.kind == "suspended", result.outcome
        loads.append((t1 - t0) * 1000)
        replays.append((t2 - t1) * 1000)
    assert inp is not None
    resume = [a + b for a, b in zip(loads, replays, strict=True)]
    return {
        "snapshot_seq": inp.snapshot_seq,
        "rows_read": {
            "snapshots": 1 if inp.snapshot_seq else 0,
            "events": inp.last_seq - inp.snapshot_seq,
        },
        "events_replayed": len(inp.events),
        "load_ms": {"median": round(statistics.median(loads), 2), "min": round(min(loads), 2)},
        "replay_ms": {
            "median": round(statistics.median(replays), 2),
            "min": round(min(replays), 2),
        },
        "resume_ms": {
            "median": round(statistics.median(resume), 2),
            "min": round(min(resume), 2),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    side_effects = args.events - 2  # + run_started + signal_awaited
    flow = continuum.workflow(name="bench.long_history", snapshot_threshold=1000)(_long)
    with scratch_database(args.dsn) as dsn:
        client = continuum.Client(dsn, instance="bench-snapshots")
        run_id = client.start(flow, side_effects, id="long-history")
        t0 = time.perf_counter()
        with continuum.Worker(client, workflows=[flow], poll_interval=0.2):
            while client.get_run(run_id).state != continuum.RunState.SUSPENDED:
                time.sleep(0.05)
        first_activation_s = time.perf_counter() - t0
        with PostgresJournal(dsn) as journal, journal.pool.connection() as conn:
            row = conn.execute(
                "SELECT seq, pg_column_size(payload), octet_length(payload::text)"
                " FROM continuum_snapshots WHERE run_id = %s",
                (run_id,),
            ).fetchone()
            assert row is not None, "no snapshot was taken"
            conn.commit()
            with_snapshot = _measure(journal, flow, run_id, args.repeat)
            conn.execute("DELETE FROM continuum_snapshots WHERE run_id = %s", (run_id,))
            conn.commit()
            without = _measure(journal, flow, run_id, args.repeat)
        client.close()
    print(
        json.dumps(
            {
                "bench": "snapshots",
                "events": args.events,
                "first_activation_s": round(first_activation_s, 2),
                "snapshot": {"seq": row[0], "stored_bytes": row[1], "json_bytes": row[2]},
                "with_snapshot": with_snapshot,
                "without_snapshot": without,
                "resume_speedup": round(
                    without["resume_ms"]["median"] / with_snapshot["resume_ms"]["median"], 2
                ),
                "load_speedup": round(
                    without["load_ms"]["median"] / with_snapshot["load_ms"]["median"], 2
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
