"""Apply the numbered SQL migrations in ``continuum/db/sql/migrations``.

``migrate`` runs every pending migration, records it in ``continuum_schema_migrations``
and creates the ``continuum_events`` partitions for the current month and the next three,
all in one transaction under an advisory lock: two processes migrating at once are safe
(the second waits, then finds nothing to do), and a failure leaves the database as it was.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import ClientCursor
from psycopg.rows import tuple_row
from pydantic import BaseModel

from continuum.db.connection import connect, unavailable
from continuum.db.dsn import describe_dsn, one_line, redact
from continuum.db.partitions import (
    ensure_partitions,
    missing_months,
    months_to_ensure,
    partition_ddl,
    partition_name,
)
from continuum.db.sqlfiles import Migration, load_migrations, query, scalar
from continuum.errors import ConfigurationError, ContinuumError
from continuum.progress import Progress, silent

MIGRATE_LOCK_KEY = 0x436F6E74_00000001
PARTITION_MONTHS_AHEAD = 3


class MigrationError(ContinuumError):
    """A migration failed to apply; the transaction was rolled back, nothing changed."""

    code = "migration_failed"


class MigrationReport(BaseModel):
    """What :func:`migrate` found, and did (or, with ``dry_run``, would do)."""

    database: str
    dry_run: bool
    applied: list[str]
    """Migrations applied by this call (with ``dry_run``: that would be applied)."""
    already_applied: list[str]
    changed: list[str]
    """Applied migrations whose file no longer matches the checksum recorded then."""
    partitions_created: list[str]
    """Event partitions created by this call (with ``dry_run``: that would be created)."""
    sql: str | None = None
    """With ``dry_run``: the SQL that would run, in order."""

    @property
    def up_to_date(self) -> bool:
        """True when nothing was (or would be) applied or created."""
        return not self.applied and not self.partitions_created


def migrate(
    conninfo: str,
    *,
    dry_run: bool = False,
    months_ahead: int = PARTITION_MONTHS_AHEAD,
    progress: Progress = silent,
) -> MigrationReport:
    """Bring the database at ``conninfo`` up to the latest schema. Idempotent.

    With ``dry_run=True`` nothing is changed and ``report.sql`` holds the SQL that would
    run. Raises :class:`~continuum.errors.DatabaseUnavailable` when the server cannot be
    reached and :class:`MigrationError` when a migration fails (nothing is applied then).
    """
    migrations = load_migrations()
    with connect(conninfo, application_name="continuum-migrate") as conn:
        if dry_run:
            return _plan(conn, conninfo, migrations, months_ahead)
        report = MigrationReport(
            database=describe_dsn(conninfo),
            dry_run=False,
            applied=[],
            already_applied=[],
            changed=[],
            partitions_created=[],
        )
        try:
            with conn.transaction():
                scalar(conn, query("advisory_xact_lock"), (MIGRATE_LOCK_KEY,))
                conn.execute(query("create_migrations_table"))
                applied = _applied(conn)
                for done, migration in enumerate(migrations, 1):
                    progress("applying migrations", done, len(migrations))
                    if migration.version in applied:
                        report.already_applied.append(migration.id)
                        if applied[migration.version] != migration.checksum:
                            report.changed.append(migration.id)
                        continue
                    _apply(conn, migration)
                    report.applied.append(migration.id)
                if scalar(conn, query("events_table_exists")):
                    report.partitions_created = ensure_partitions(conn, months_ahead)
        except psycopg.Error as exc:
            if conn.closed:
                raise unavailable(conninfo, exc) from exc
            raise MigrationError(
                f"migration failed on {describe_dsn(conninfo)}: {redact(one_line(exc))}; "
                "the transaction was rolled back and nothing was applied"
            ) from exc
    return report


def pending(conninfo: str) -> list[str]:
    """Ids (``"0001_initial"``) of the migrations not yet applied at ``conninfo``."""
    with connect(conninfo, autocommit=True, application_name="continuum-migrate") as conn:
        applied = _applied(conn) if scalar(conn, query("migrations_table_exists")) else {}
    return [m.id for m in load_migrations() if m.version not in applied]


def require_current_schema(conn: psycopg.Connection[Any]) -> None:
    """Raise :class:`ConfigurationError` unless every migration is applied on ``conn``.

    For workers and clients to fail fast with a hint instead of "relation does not exist".
    """
    applied = _applied(conn) if scalar(conn, query("migrations_table_exists")) else {}
    missing = [m.id for m in load_migrations() if m.version not in applied]
    if missing:
        raise ConfigurationError(
            f"the database schema is not up to date (pending: {', '.join(missing)}); "
            "run `continuum migrate` (with the same --dsn) first"
        )


def _applied(conn: psycopg.Connection[Any]) -> dict[str, str]:
    with conn.cursor(row_factory=tuple_row) as cur:
        rows = cur.execute(query("applied_migrations")).fetchall()
    return {str(version): str(checksum) for version, checksum in rows}


def _apply(conn: psycopg.Connection[Any], migration: Migration) -> None:
    # No parameters: psycopg sends the file as one simple query, so it may hold
    # many statements (and literal % signs).
    conn.execute(migration.sql)
    conn.execute(query("record_migration"), (migration.version, migration.name, migration.checksum))


def _plan(
    conn: psycopg.Connection[Any],
    conninfo: str,
    migrations: tuple[Migration, ...],
    months_ahead: int,
) -> MigrationReport:
    present = bool(scalar(conn, query("migrations_table_exists")))
    applied = _applied(conn) if present else {}
    todo = [m for m in migrations if m.version not in applied]
    statements: list[str] = []
    if not present:
        statements.append(query("create_migrations_table") + ";")
    for migration in todo:
        statements.append(f"-- migration {migration.id}\n{migration.sql.strip()}")
        record = (migration.version, migration.name, migration.checksum)
        statements.append(ClientCursor(conn).mogrify(query("record_migration"), record) + ";")
    months = months_to_ensure(conn, months_ahead)
    events_exist = bool(scalar(conn, query("events_table_exists")))
    needed = missing_months(conn, months) if events_exist else months
    will_have_events = events_exist or any("continuum_events" in m.sql for m in todo)
    partitions = [partition_ddl(m) for m in needed] if will_have_events else []
    if partitions:
        statements.append("-- event partitions (current UTC month and the next ones)")
        statements.extend(p.as_string(conn) + ";" for p in partitions)
    conn.rollback()
    return MigrationReport(
        database=describe_dsn(conninfo),
        dry_run=True,
        applied=[m.id for m in todo],
        already_applied=[m.id for m in migrations if m.version in applied],
        changed=[
            m.id for m in migrations if m.version in applied and applied[m.version] != m.checksum
        ],
        partitions_created=[partition_name(m) for m in needed] if partitions else [],
        sql="\n\n".join(statements) if statements else "",
    )
