"""Retention: start(retention=) sets retention_until when the run finishes; purge and
partition drop honour it."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from click.testing import CliRunner

import continuum
from continuum.cli.worker_commands import runs_group
from continuum.db.partitions import create_partition, drop_old, list_partitions
from continuum.errors import ConfigurationError, DefinitionError


@continuum.workflow(name="retention.leaf")
def leaf(n: int) -> int:
    return n + 1


@continuum.workflow(name="retention.kept_a_week", retention=continuum.days(7))
def kept_a_week(n: int) -> int:
    return n


@continuum.workflow(name="retention.parent")
def parent(n: int) -> int:
    result: int = continuum.child(leaf, n)
    return result


@continuum.activity
def charge(n: int) -> int:
    return n * 100


@continuum.workflow(name="retention.charged")
def charged(n: int) -> int:
    result: int = continuum.execute(charge, n, idempotency_key=f"charge:{n}")
    return result


@pytest.fixture
def client(pg_dsn: str) -> Iterator[continuum.Client]:
    with continuum.Client(pg_dsn, instance=f"r-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _kept_for(dsn: str, run_id: str) -> timedelta | None:
    """retention_until - finished_at of a finished run (None when unset)."""
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT retention_until - finished_at FROM continuum_runs WHERE id = %s", (run_id,)
        ).fetchone()
    assert row is not None
    value: timedelta | None = row[0]
    return value


def test_start_retention_sets_retention_until_when_the_run_finishes(
    client: continuum.Client, pg_dsn: str
) -> None:
    rid = client.start(leaf, 1, retention=continuum.days(30))
    assert _kept_for(pg_dsn, rid) is None  # not finished yet: nothing to count from
    plain = client.start(leaf, 2)
    with continuum.Worker(client, workflows=[leaf], poll_interval=0.2):
        assert client.result(rid, timeout=30) == 2
        assert client.result(plain, timeout=30) == 3
    assert _kept_for(pg_dsn, rid) == timedelta(days=30)
    assert _kept_for(pg_dsn, plain) is None  # opt-in: no retention, kept forever


def test_workflow_default_and_worker_default_and_children_inherit(
    client: continuum.Client, pg_dsn: str
) -> None:
    week = client.start(kept_a_week, 1)
    overridden = client.start(kept_a_week, 2, retention=continuum.days(1))
    by_worker = client.start(leaf, 3)
    family = client.start(parent, 4, retention=continuum.hours(5))
    worker = continuum.Worker(
        client,
        workflows=[leaf, kept_a_week, parent],
        poll_interval=0.2,
        retention=continuum.days(90),
    )
    with worker:
        for rid in (week, overridden, by_worker, family):
            client.result(rid, timeout=30)
    assert _kept_for(pg_dsn, week) == timedelta(days=7)
    assert _kept_for(pg_dsn, overridden) == timedelta(days=1)
    assert _kept_for(pg_dsn, by_worker) == timedelta(days=90)
    assert _kept_for(pg_dsn, family) == timedelta(hours=5)
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute(
            "SELECT id FROM continuum_runs WHERE parent_run_id = %s", (family,)
        ).fetchone()
    assert row is not None
    assert _kept_for(pg_dsn, row[0]) == timedelta(hours=5)  # the child inherits


def test_bad_retention_is_refused_before_anything_is_written(
    client: continuum.Client, pg_dsn: str
) -> None:
    with pytest.raises(ConfigurationError, match="retention"):
        client.start(leaf, 1, retention=timedelta(0))
    with pytest.raises(ConfigurationError, match="retention"):
        client.start(leaf, 1, retention=30)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="retention"):
        continuum.Worker(client, retention=timedelta(days=-1))
    with pytest.raises(DefinitionError, match="retention"):
        continuum.workflow(retention=timedelta(0))(lambda n: n)
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT count(*) FROM continuum_runs").fetchone()
    assert row == (0,)


def test_runs_purge_is_a_dry_run_until_execute(client: continuum.Client, pg_dsn: str) -> None:
    expiring = client.start(leaf, 1, retention=continuum.seconds(1))
    kept = client.start(leaf, 2, retention=continuum.days(30))
    forever = client.start(leaf, 3)
    with continuum.Worker(client, workflows=[leaf], poll_interval=0.2):
        for rid in (expiring, kept, forever):
            client.result(rid, timeout=30)
    time.sleep(1.2)
    runner = CliRunner()
    dry = runner.invoke(runs_group, ["purge", "--dsn", pg_dsn, "--format", "json"])
    assert dry.exit_code == 0, dry.output
    report = json.loads(dry.stdout)
    assert report["executed"] is False
    assert [r["id"] for r in report["sample"]] == [expiring]
    assert client.get_run(expiring).state == continuum.RunState.COMPLETED  # still there

    text = runner.invoke(runs_group, ["purge", "--dsn", pg_dsn])
    assert "1 run(s) past retention; dry run" in text.stdout

    done = runner.invoke(runs_group, ["purge", "--execute", "--dsn", pg_dsn, "--format", "json"])
    assert done.exit_code == 0, done.output
    executed = json.loads(done.stdout)
    assert executed["deleted_run_ids"] == [expiring]
    assert executed["deleted"]["runs"] == 1 and executed["deleted"]["events"] >= 2
    with pytest.raises(continuum.RunNotFound):
        client.get_run(expiring)
    assert client.get_run(kept).state == continuum.RunState.COMPLETED
    assert client.get_run(forever).state == continuum.RunState.COMPLETED


def _claims(dsn: str, key: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM continuum_idempotency_claims WHERE idempotency_key = %s", (key,)
        ).fetchone()
    assert row is not None
    count: int = row[0]
    return count


def test_runs_purge_takes_the_idempotency_claims_of_the_purged_runs(
    client: continuum.Client, pg_dsn: str
) -> None:
    expiring = client.start(charged, 1, retention=continuum.seconds(1))
    kept = client.start(charged, 2, retention=continuum.days(30))
    with continuum.Worker(client, workflows=[charged], activities=[charge], poll_interval=0.2):
        assert client.result(expiring, timeout=30) == 100
        assert client.result(kept, timeout=30) == 200
    assert _claims(pg_dsn, "charge:1") == 1 and _claims(pg_dsn, "charge:2") == 1
    time.sleep(1.2)
    done = CliRunner().invoke(
        runs_group, ["purge", "--execute", "--dsn", pg_dsn, "--format", "json"]
    )
    assert done.exit_code == 0, done.output
    executed = json.loads(done.stdout)
    assert executed["deleted_run_ids"] == [expiring]
    assert executed["deleted"]["idempotency_claims"] == 1
    assert _claims(pg_dsn, "charge:1") == 0
    assert _claims(pg_dsn, "charge:2") == 1  # the kept run's claim stays with it


def test_runs_purge_bad_dsn_is_one_line_without_traceback() -> None:
    result = CliRunner().invoke(runs_group, ["purge", "--dsn", "not a dsn"])
    assert result.exit_code != 0
    assert "Traceback" not in result.output


def test_partitions_drop_old_drops_a_month_whose_runs_started_with_retention(
    client: continuum.Client, pg_dsn: str
) -> None:
    rid = client.start(leaf, 1, retention=continuum.seconds(1))
    with continuum.Worker(client, workflows=[leaf], poll_interval=0.2):
        client.result(rid, timeout=30)
    time.sleep(1.2)
    with psycopg.connect(pg_dsn) as conn:
        create_partition(conn, "2020-01")
        # Pretend the run was journaled long ago: its events move to January 2020.
        conn.execute(
            "UPDATE continuum_events SET inserted_at = '2020-01-10T00:00:00Z' WHERE run_id = %s",
            (rid,),
        )
        conn.commit()
        report = drop_old(conn, execute=True)
        names = [p.name for p in list_partitions(conn)]
    assert report.retention_configured
    assert report.dropped == ["continuum_events_2020_01"]
    assert "continuum_events_2020_01" not in names
