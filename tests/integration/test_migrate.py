"""``migrate``: idempotent, transactional, dry-run, safe under concurrency, clear errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import psycopg
import pytest
from click.testing import CliRunner

import continuum.db.migrate as migrate_module
from continuum.cli.db_commands import migrate_command
from continuum.db.migrate import MigrationError, MigrationReport, migrate, pending
from continuum.db.sqlfiles import Migration, load_migrations
from continuum.errors import ConfigurationError, DatabaseUnavailable

pytestmark = pytest.mark.postgres

ALL_MIGRATIONS = [m.id for m in load_migrations()]


def _tables(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = current_schema() AND relkind IN ('r', 'p') ORDER BY 1"
        ).fetchall()
    return [str(r[0]) for r in rows]


def test_migrate_on_empty_database_applies_everything_and_records_versions(
    empty_db: str,
) -> None:
    report = migrate(empty_db)

    assert report.applied == ALL_MIGRATIONS
    assert len(report.partitions_created) == 4
    with psycopg.connect(empty_db) as conn:
        recorded = conn.execute(
            "SELECT version || '_' || name, applied_at <= now() FROM continuum_schema_migrations"
        ).fetchall()
    assert recorded == [(m, True) for m in ALL_MIGRATIONS]
    assert pending(empty_db) == []


def test_migrate_twice_is_a_no_op(pg_dsn: str, dump_schema: Callable[[str], str]) -> None:
    before = dump_schema(pg_dsn)

    report = migrate(pg_dsn)

    assert report.up_to_date
    assert report.already_applied == ALL_MIGRATIONS
    assert report.changed == []
    assert dump_schema(pg_dsn) == before


def test_dry_run_returns_the_sql_and_changes_nothing(empty_db: str) -> None:
    report = migrate(empty_db, dry_run=True)

    assert report.dry_run
    assert report.applied == ALL_MIGRATIONS
    assert report.sql is not None
    assert "CREATE TABLE continuum_runs" in report.sql
    assert "PARTITION OF continuum_events" in report.sql
    assert _tables(empty_db) == []
    assert pending(empty_db) == ALL_MIGRATIONS


def test_dry_run_sql_when_executed_builds_the_same_schema(
    empty_db: str, pg_dsn: str, dump_schema: Callable[[str], str]
) -> None:
    script = migrate(empty_db, dry_run=True).sql
    assert script

    with psycopg.connect(empty_db) as conn:
        conn.execute(script.encode())

    assert dump_schema(empty_db) == dump_schema(pg_dsn)
    assert pending(empty_db) == []


def test_dry_run_on_an_up_to_date_database_has_nothing_to_do(pg_dsn: str) -> None:
    report = migrate(pg_dsn, dry_run=True)

    assert report.up_to_date
    assert report.sql == ""


def test_concurrent_migrations_apply_each_version_once(empty_db: str) -> None:
    threads = 4
    barrier = threading.Barrier(threads)
    reports: list[MigrationReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            reports.append(migrate(empty_db))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert errors == []
    assert sorted(len(r.applied) for r in reports) == [0] * (threads - 1) + [len(ALL_MIGRATIONS)]
    assert sum(len(r.partitions_created) for r in reports) == 4
    with psycopg.connect(empty_db) as conn:
        count = conn.execute("SELECT count(*) FROM continuum_schema_migrations").fetchone()
    assert count == (len(ALL_MIGRATIONS),)


def test_failing_migration_rolls_back_everything(
    empty_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = Migration(
        version="9999", name="broken", sql="CREATE TABLE oops (; ", checksum="x" * 64
    )
    monkeypatch.setattr(migrate_module, "load_migrations", lambda: (*load_migrations(), broken))

    with pytest.raises(MigrationError, match="nothing was applied"):
        migrate(empty_db)

    assert _tables(empty_db) == []


def test_migration_file_changed_after_apply_is_reported(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("UPDATE continuum_schema_migrations SET checksum = 'old'")

    report = migrate(pg_dsn)

    assert report.changed == ALL_MIGRATIONS
    assert report.applied == []


def test_unreachable_server_raises_database_unavailable_naming_host_not_password() -> None:
    dsn = "postgresql://alice:s3cret-pw@127.0.0.1:1/orders_db?connect_timeout=2"

    with pytest.raises(DatabaseUnavailable) as caught:
        migrate(dsn)

    message = str(caught.value)
    assert "127.0.0.1" in message
    assert "orders_db" in message
    assert "s3cret-pw" not in message
    assert "CONTINUUM_DATABASE_URL" in message


def test_missing_database_raises_database_unavailable(pg_server_dsn: str) -> None:
    from continuum.db.config import with_dbname

    with pytest.raises(DatabaseUnavailable, match="no_such_db"):
        migrate(with_dbname(pg_server_dsn, "no_such_db"))


def test_malformed_dsn_raises_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="not a valid PostgreSQL connection string"):
        migrate("this is not a dsn")


def test_cli_migrate_dry_run_prints_sql_and_changes_nothing(empty_db: str) -> None:
    result = CliRunner().invoke(migrate_command, ["--dsn", empty_db, "--dry-run"])

    assert result.exit_code == 0, result.output
    assert "CREATE TABLE continuum_runs" in result.stdout
    assert _tables(empty_db) == []


def test_cli_migrate_json_reports_applied_versions(empty_db: str) -> None:
    result = CliRunner().invoke(migrate_command, ["--dsn", empty_db, "--format", "json"])

    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["applied"] == ALL_MIGRATIONS
    assert payload["dry_run"] is False
    assert len(payload["partitions_created"]) == 4


def test_cli_migrate_bad_dsn_is_one_line_without_traceback() -> None:
    result = CliRunner().invoke(
        migrate_command, ["--dsn", "postgresql://bob:hunter2@127.0.0.1:1/x?connect_timeout=2"]
    )

    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: cannot connect to PostgreSQL")
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.output
