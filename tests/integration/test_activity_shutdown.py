"""A worker shuts down within its drain bound while an activity ignores cancellation.

Run in a child process, so the test sees what a user sees: ``worker.stop(timeout=...)``
returns in time, names what it abandoned, and the process then exits — the abandoned
body (which never returns) does not keep it alive.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    import continuum
    from continuum.client import Client
    from continuum.runtime.worker import Worker

    started = threading.Event()

    @continuum.activity(name="shutdown_test.forever")
    def forever() -> None:
        started.set()
        while True:  # ignores cancellation: swallows ActivityCancelled and goes on
            try:
                continuum.heartbeat()
            except continuum.ActivityCancelled:
                pass
            time.sleep(0.05)

    @continuum.activity(name="shutdown_test.forever_async")
    async def forever_async() -> None:
        import asyncio
        while True:  # swallows CancelledError too
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                pass

    @continuum.workflow(name="shutdown_test.flow")
    def flow() -> None:
        a = continuum.start_activity(forever)
        b = continuum.start_activity(forever_async)
        continuum.gather(a, b)

    client = Client()
    worker = Worker(client, workflows=[flow], activities=[forever, forever_async])
    worker.start()
    run_id = client.start(flow)
    assert started.wait(30), "the activity never started"
    time.sleep(0.5)
    t0 = time.monotonic()
    worker.stop(timeout=float(sys.argv[1]))
    elapsed = time.monotonic() - t0
    print(json.dumps({"elapsed": elapsed, "run_id": run_id,
                      "abandoned": sorted(a["activity"] for a in worker.abandoned)}), flush=True)
    """
)


def test_worker_stops_within_its_drain_bound_and_the_process_exits(
    pg_dsn: str, tmp_path: Path
) -> None:
    script = tmp_path / "stubborn_worker.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "CONTINUUM_DATABASE_URL": pg_dsn}
    drain = 2.0
    with subprocess.Popen(
        [sys.executable, str(script), str(drain)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        reported_at = time.monotonic()
        try:
            proc.wait(timeout=30)
        finally:
            proc.kill()
        exited_after = time.monotonic() - reported_at
        stderr = proc.stderr.read()
    assert line, f"the child printed nothing; stderr:\n{stderr}"
    report = json.loads(line)
    assert report["elapsed"] <= drain + 1.0, report
    assert report["abandoned"] == ["shutdown_test.forever", "shutdown_test.forever_async"]
    assert proc.returncode == 0, stderr
    assert exited_after <= 5.0  # nothing left keeps the interpreter alive
    assert "abandoned" in stderr  # the worker says what it let go of
