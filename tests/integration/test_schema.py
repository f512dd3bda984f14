"""The migrated schema: every SPEC §6 table and column, constraints, claim-path indexes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from continuum.db.migrate import migrate

pytestmark = pytest.mark.postgres

SNAPSHOT = Path(__file__).with_name("schema_snapshot.txt")
UPDATE_SNAPSHOT_ENV = "CONTINUUM_UPDATE_SCHEMA_SNAPSHOT"

# SPEC §6 plus the columns the engine, journal and runtime are written against.
EXPECTED_COLUMNS: dict[str, set[str]] = {
    "continuum_runs": {
        "id", "workflow", "version_hash", "state", "input", "result", "error",
        "lease_owner", "lease_token", "lease_expires_at", "next_wakeup_at",
        "namespace", "attributes", "parent_run_id", "parent_command_id", "correlation_id",
        "continued_from_run_id", "continued_to_run_id", "depth", "cancel_requested_at",
        "trace_context", "retention_until", "last_seq", "started_at", "updated_at",
        "finished_at",
    },
    "continuum_events": {"run_id", "seq", "inserted_at", "type", "command", "ref_seq", "data"},
    "continuum_signals": {
        "id", "run_id", "name", "payload", "inserted_at", "consumed_at", "consumed_seq",
    },
    "continuum_timers": {"run_id", "seq", "fire_at", "fired"},
    "continuum_activity_tasks": {
        "id", "run_id", "command_seq", "kind", "activity", "args", "idempotency_key", "state",
        "attempt", "max_attempts", "timeout_ms", "backoff", "available_at", "lease_owner",
        "lease_token", "lease_expires_at", "result", "error", "journaled", "inserted_at",
        "updated_at",
    },
    "continuum_activity_results": {"activity", "idempotency_key", "result", "inserted_at"},
    "continuum_snapshots": {"run_id", "seq", "format_version", "payload", "inserted_at"},
    "continuum_workflow_versions": {"workflow", "version_hash", "entrypoint", "registered_at"},
    "continuum_workers": {
        "id", "instance", "host", "pid", "started_at", "heartbeat_at", "versions",
    },
}  # fmt: skip

EXPECTED_PRIMARY_KEYS: dict[str, list[str]] = {
    "continuum_runs": ["id"],
    "continuum_events": ["run_id", "seq", "inserted_at"],
    "continuum_signals": ["id"],
    "continuum_timers": ["run_id", "seq"],
    "continuum_activity_tasks": ["id"],
    "continuum_activity_results": ["activity", "idempotency_key"],
    "continuum_snapshots": ["run_id", "seq"],
    "continuum_workflow_versions": ["workflow", "version_hash"],
    "continuum_workers": ["id"],
}


def test_every_spec_table_and_column_exists(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema()"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for table, column in rows:
        found.setdefault(table, set()).add(column)
    for table, columns in EXPECTED_COLUMNS.items():
        assert table in found, f"missing table {table}"
        assert columns <= found[table], f"{table} lacks {sorted(columns - found[table])}"


def test_primary_keys_match_the_spec(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        rows = conn.execute(
            """
            SELECT c.relname, array_agg(a.attname ORDER BY k.ord)
            FROM pg_constraint p
            JOIN pg_class c ON c.oid = p.conrelid
            CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
            WHERE p.contype = 'p' AND NOT c.relispartition AND c.relname LIKE 'continuum%%'
            GROUP BY c.relname
            """
        ).fetchall()
    keys = {table: list(columns) for table, columns in rows}
    for table, columns in EXPECTED_PRIMARY_KEYS.items():
        assert keys.get(table) == columns, table


def test_events_are_range_partitioned_by_inserted_at(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        row = conn.execute("SELECT pg_get_partkeydef('continuum_events'::regclass)").fetchone()
    assert row == ("RANGE (inserted_at)",)


def test_lease_token_sequence_exists_and_increases(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        first = conn.execute("SELECT nextval('continuum_lease_token_seq')").fetchone()
        second = conn.execute("SELECT nextval('continuum_lease_token_seq')").fetchone()
    assert first is not None and second is not None
    assert second[0] > first[0]


def test_run_defaults_use_the_database_clock_and_documented_values(pg_dsn: str) -> None:
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(
            "INSERT INTO continuum_runs (id, workflow, version_hash, state, input, correlation_id)"
            " VALUES ('r1', 'w', 'h', 'running', '{}', 'r1')"
        )
        row = conn.execute(
            "SELECT namespace, attributes, depth, last_seq, started_at = now(), "
            "updated_at = now(), finished_at FROM continuum_runs WHERE id = 'r1'"
        ).fetchone()
    assert row == ("default", {}, 0, 0, True, True, None)


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO continuum_runs (id, workflow, version_hash, state, input, correlation_id)"
        " VALUES ('r1', 'w', 'h', 'sleeping', '{}', 'r1')",
        "INSERT INTO continuum_activity_tasks (run_id, command_seq, activity, args, state,"
        " max_attempts) VALUES ('r1', 1, 'a', '[]', 'running', 1)",
    ],
    ids=["run_state", "task_state"],
)
def test_unknown_states_are_rejected_by_check_constraints(pg_dsn: str, statement: str) -> None:
    with psycopg.connect(pg_dsn) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(statement.encode())


def test_one_activity_task_per_run_command(pg_dsn: str) -> None:
    insert = (
        "INSERT INTO continuum_activity_tasks (run_id, command_seq, activity, args, state,"
        " max_attempts) VALUES ('r1', 3, 'a', '[]', 'pending', 1)"
    )
    with psycopg.connect(pg_dsn) as conn:
        conn.execute(insert)
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute(insert)


@pytest.mark.parametrize(
    ("claim_query", "index"),
    [
        (
            "SELECT id FROM continuum_runs WHERE state IN ('running', 'suspended')"
            " AND next_wakeup_at <= now() ORDER BY next_wakeup_at LIMIT 10"
            " FOR UPDATE SKIP LOCKED",
            "continuum_runs_runnable_idx",
        ),
        (
            "SELECT id FROM continuum_activity_tasks WHERE state = 'pending'"
            " AND available_at <= now() ORDER BY available_at, id LIMIT 10"
            " FOR UPDATE SKIP LOCKED",
            "continuum_activity_tasks_claim_idx",
        ),
        (
            "SELECT run_id, seq FROM continuum_timers WHERE NOT fired"
            " AND fire_at <= now() + interval '5 seconds' ORDER BY fire_at LIMIT 100",
            "continuum_timers_due_idx",
        ),
    ],
    ids=["runs", "activity_tasks", "timers"],
)
def test_claim_queries_can_use_their_partial_index(
    pg_dsn: str, claim_query: str, index: str
) -> None:
    # On an empty table the planner prefers a seq scan; disabling it shows whether the
    # partial index's predicate matches the claim query at all.
    with psycopg.connect(pg_dsn) as conn:
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(
            str(row[0]) for row in conn.execute(f"EXPLAIN {claim_query}".encode()).fetchall()
        )
    assert index in plan, plan


def test_schema_matches_checked_in_snapshot(pg_dsn: str, dump_schema: Callable[[str], str]) -> None:
    actual = dump_schema(pg_dsn)
    if os.environ.get(UPDATE_SNAPSHOT_ENV) == "1":
        SNAPSHOT.write_text(actual)
    assert SNAPSHOT.exists(), f"no {SNAPSHOT.name}; create it with {UPDATE_SNAPSHOT_ENV}=1"
    assert actual == SNAPSHOT.read_text(), (
        f"schema differs from {SNAPSHOT.name}; if the change is intended, rerun with "
        f"{UPDATE_SNAPSHOT_ENV}=1 and commit the snapshot"
    )


def test_fresh_migration_equals_the_template_schema(
    pg_dsn: str, empty_db: str, dump_schema: Callable[[str], str]
) -> None:
    migrate(empty_db)
    assert dump_schema(empty_db) == dump_schema(pg_dsn)
