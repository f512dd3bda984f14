"""A worker's boot ends the back-off of runs of its versions that an incapable node released;
runs sleeping on a timer, runs of other versions and leased runs are left alone."""

from __future__ import annotations

import time
import uuid

import psycopg

import continuum
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow(name="wake.waiter")
def waiter() -> str:
    return str(continuum.wait_signal("go"))


def _row(dsn: str, run_id: str) -> tuple[int, bool | None]:
    """(events written, next_wakeup_at still in the future)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM continuum_events WHERE run_id = r.id),"
            " r.next_wakeup_at > now() FROM continuum_runs r WHERE id = %s",
            (run_id,),
        ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def test_boot_wakes_backed_off_runs_of_its_versions_only(pg_dsn: str) -> None:
    with Client(pg_dsn, instance=f"t-{uuid.uuid4().hex[:8]}") as client:
        backed_off = client.start(waiter, id="backed-off")
        on_timer = client.start(waiter, id="on-timer")
        other_version = client.start(waiter, id="other-version")
        leased = client.start(waiter, id="leased")
        with psycopg.connect(pg_dsn) as conn:
            # As release_run leaves a run an incapable node gave back: unleased, due later.
            conn.execute(
                "UPDATE continuum_runs SET state = 'suspended',"
                " next_wakeup_at = now() + interval '20 minutes' WHERE id = ANY(%s)",
                ([backed_off, on_timer, other_version, leased],),
            )
            conn.execute(
                "INSERT INTO continuum_timers (run_id, seq, fire_at)"
                " SELECT id, 1, next_wakeup_at FROM continuum_runs WHERE id = %s",
                (on_timer,),
            )
            conn.execute(
                "UPDATE continuum_runs SET version_hash = 'not-deployed-anywhere' WHERE id = %s",
                (other_version,),
            )
            conn.execute(
                "UPDATE continuum_runs SET lease_owner = 'elsewhere', lease_token = 1,"
                " lease_expires_at = now() + interval '1 hour' WHERE id = %s",
                (leased,),
            )
        with Worker(client, workflows=[waiter], poll_interval=0.2):
            deadline = time.monotonic() + 20
            while _row(pg_dsn, backed_off)[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert _row(pg_dsn, backed_off)[0] > 0, "the backed-off run was not resumed"
            time.sleep(0.5)  # several claim ticks: nothing else may have become due
            for untouched in (on_timer, other_version, leased):
                assert _row(pg_dsn, untouched) == (0, True), untouched
        client.signal(backed_off, "go", "now")
        with Worker(client, workflows=[waiter], poll_interval=0.2):
            assert client.result(backed_off, timeout=20) == "now"
