"""Monthly partitions of continuum_events: create, list, ensure, drop-old."""

from __future__ import annotations

import json
import threading
from datetime import date

import psycopg
import pytest
from click.testing import CliRunner

from continuum.cli.db_commands import partitions_group
from continuum.db.partitions import (
    create_partition,
    current_month,
    drop_old,
    ensure_partitions,
    list_partitions,
    parse_month,
    partition_name,
)
from continuum.errors import ConfigurationError

pytestmark = pytest.mark.postgres


def _add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _insert_run(conn: psycopg.Connection[tuple[object, ...]], run_id: str, retention: str) -> None:
    """``retention`` is a SQL expression on the database clock, or 'NULL'."""
    conn.execute(
        "INSERT INTO continuum_runs (id, workflow, version_hash, state, input, correlation_id,"
        f" retention_until) VALUES (%s, 'w', 'h', 'completed', '{{}}', %s, {retention})".encode(),
        (run_id, run_id),
    )


def _insert_event(
    conn: psycopg.Connection[tuple[object, ...]], run_id: str, seq: int, at: str
) -> None:
    conn.execute(
        "INSERT INTO continuum_events (run_id, seq, inserted_at, type) VALUES (%s, %s, %s, 'x')",
        (run_id, seq, at),
    )


def test_migrate_creates_the_current_month_and_three_ahead(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        first = current_month(conn)
        months = [p.month for p in list_partitions(conn)]

    assert months == [f"{m:%Y-%m}" for m in (_add_months(first, i) for i in range(4))]


def test_events_land_in_the_partition_of_their_utc_month(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        create_partition(conn, "2024-02")
        _insert_event(conn, "r1", 1, "2024-02-29T23:59:59+00:00")
        _insert_event(conn, "r1", 2, "2024-02-01T00:00:00+00:00")
        rows = {p.name: p.rows for p in list_partitions(conn)}

    assert rows["continuum_events_2024_02"] == 2


def test_event_in_a_month_without_partition_is_rejected(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        _insert_event(conn, "r1", 1, "1999-06-15T00:00:00+00:00")


def test_create_partition_is_idempotent(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        assert create_partition(conn, "2030-07") is True
        assert create_partition(conn, "2030-07") is False
        names = [p.name for p in list_partitions(conn)]

    assert names.count("continuum_events_2030_07") == 1


def test_ensure_partitions_creates_only_missing_months(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        first = current_month(conn)
        assert ensure_partitions(conn) == []
        created = ensure_partitions(conn, months_ahead=5)
        assert ensure_partitions(conn, months_ahead=5) == []

    assert created == [partition_name(_add_months(first, 4)), partition_name(_add_months(first, 5))]


def test_concurrent_ensure_partitions_create_each_month_once(pg_dsn: str) -> None:
    threads = 4
    barrier = threading.Barrier(threads)
    created: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        with psycopg.connect(pg_dsn) as conn:
            barrier.wait()
            try:
                created.extend(ensure_partitions(conn, months_ahead=8))
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert errors == []
    assert len(created) == len(set(created)) == 5


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-01", "2026/01", "June", ""])
def test_bad_month_strings_are_rejected(text: str) -> None:
    with pytest.raises(ConfigurationError, match="expected YYYY-MM"):
        parse_month(text)


def test_drop_old_is_a_no_op_when_no_run_has_retention(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        create_partition(conn, "2020-01")
        _insert_run(conn, "r1", "NULL")
        _insert_event(conn, "r1", 1, "2020-01-10T00:00:00+00:00")
        create_partition(conn, "2020-02")  # empty, long past
        conn.commit()

        report = drop_old(conn, execute=True)
        names = [p.name for p in list_partitions(conn)]

    assert report.retention_configured is False
    assert report.eligible == [] and report.dropped == []
    assert {"continuum_events_2020_01", "continuum_events_2020_02"} <= set(names)


def test_drop_old_reports_only_partitions_every_run_of_which_is_past_retention(
    pg_dsn: str,
) -> None:
    with psycopg.connect(pg_dsn) as conn:
        for month in ("2020-01", "2020-02", "2020-03", "2020-04"):
            create_partition(conn, month)
        _insert_run(conn, "expired", "now() - interval '1 day'")
        _insert_run(conn, "kept", "now() + interval '30 days'")
        _insert_run(conn, "forever", "NULL")
        _insert_event(conn, "expired", 1, "2020-01-05T00:00:00+00:00")
        _insert_event(conn, "expired", 2, "2020-02-05T00:00:00+00:00")
        _insert_event(conn, "kept", 1, "2020-02-06T00:00:00+00:00")
        _insert_event(conn, "forever", 1, "2020-03-05T00:00:00+00:00")
        _insert_event(conn, "deleted-run", 1, "2020-04-05T00:00:00+00:00")
        # The expired run also wrote this month: the current partition is never eligible.
        _insert_event(conn, "expired", 3, "now()")
        conn.commit()

        report = drop_old(conn)
        after_report = [p.name for p in list_partitions(conn)]
        executed = drop_old(conn, execute=True)
        after_execute = [p.name for p in list_partitions(conn)]
        remaining = conn.execute(
            "SELECT run_id, seq FROM continuum_events ORDER BY run_id, seq"
        ).fetchall()

    assert report.retention_configured
    assert [p.name for p in report.eligible] == ["continuum_events_2020_01"]
    assert report.dropped == []
    assert "continuum_events_2020_01" in after_report
    assert executed.dropped == ["continuum_events_2020_01"]
    assert "continuum_events_2020_01" not in after_execute
    assert {"continuum_events_2020_02", "continuum_events_2020_03"} <= set(after_execute)
    assert remaining == [
        ("deleted-run", 1),
        ("expired", 2),
        ("expired", 3),
        ("forever", 1),
        ("kept", 1),
    ]


def test_partitions_cli_create_list_and_drop_old(pg_dsn: str) -> None:
    runner = CliRunner()

    created = runner.invoke(partitions_group, ["create", "2021-05", "--dsn", pg_dsn])
    again = runner.invoke(
        partitions_group, ["create", "2021-05", "--dsn", pg_dsn, "--format", "json"]
    )
    listed = runner.invoke(partitions_group, ["list", "--dsn", pg_dsn, "--format", "json"])
    text_list = runner.invoke(partitions_group, ["list", "--dsn", pg_dsn])
    dropped = runner.invoke(partitions_group, ["drop-old", "--dsn", pg_dsn])

    assert created.exit_code == 0, created.output
    assert "created partition continuum_events_2021_05" in created.stdout
    assert json.loads(again.stdout) == {
        "created": [],
        "already_existed": ["continuum_events_2021_05"],
    }
    months = [p["month"] for p in json.loads(listed.stdout)]
    assert months[0] == "2021-05" and len(months) == 5
    assert "continuum_events_2021_05" in text_list.stdout
    assert dropped.exit_code == 0
    assert "no run has retention_until set" in dropped.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "2021-13"], "Error: invalid month '2021-13'"),
        (["list", "--dsn", "nonsense"], "Error: the DSN is not a valid"),
    ],
)
def test_partitions_cli_bad_input_is_one_line_without_traceback(
    pg_dsn: str, args: list[str], message: str
) -> None:
    if "--dsn" not in args:
        args = [*args, "--dsn", pg_dsn]

    result = CliRunner().invoke(partitions_group, args)

    assert result.exit_code != 0
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_partitions_cli_on_unmigrated_database_says_to_migrate(empty_db: str) -> None:
    result = CliRunner().invoke(partitions_group, ["list", "--dsn", empty_db])

    assert result.exit_code != 0
    assert "run `continuum migrate`" in result.stderr
