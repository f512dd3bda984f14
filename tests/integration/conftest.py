"""Real-PostgreSQL fixtures: one server per session, one fresh migrated database per test.

- ``pg_server_dsn`` (session): an admin DSN (database ``postgres``) on the embedded test
  server under ``<repo>/.continuum/test`` — started once and left running for the next
  session — or on ``$CONTINUUM_TEST_DATABASE_URL`` when set (that user must be allowed to
  create databases).
- ``pg_template`` (session): the name of a template database migrated once per migration
  set and month (see :func:`continuum.db.admin.ensure_template`).
- ``pg_dsn`` (function): a DSN for a brand-new database cloned from the template
  (``CREATE DATABASE ... TEMPLATE``, a file copy), dropped after the test.
- ``empty_db`` (function): a DSN for a brand-new *empty* database (nothing migrated).
- ``dump_schema`` (session): ``dump_schema(dsn) -> str``, a canonical text dump of the
  Continuum schema (tables, columns, constraints, indexes, sequences; not partitions).

Every test in this directory gets the ``postgres`` marker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from psycopg.rows import tuple_row

from continuum.db.admin import (
    clone_database,
    create_database,
    drop_database,
    ensure_template,
)
from continuum.db.embedded import start_embedded
from continuum.db.pool import check_connection
from continuum.db.sqlfiles import migrations_fingerprint

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
TEST_HOME = REPO / ".continuum" / "test"
TEST_DATABASE_URL_ENV = "CONTINUUM_TEST_DATABASE_URL"
_DB_PREFIX = "t_"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.postgres)


@pytest.fixture(scope="session")
def pg_server_dsn() -> str:
    """Admin DSN of the test server (embedded unless $CONTINUUM_TEST_DATABASE_URL)."""
    url = os.environ.get(TEST_DATABASE_URL_ENV, "").strip()
    if url:
        check_connection(url)
        return url
    dsn = start_embedded(home=TEST_HOME, database="postgres")
    with psycopg.connect(dsn, autocommit=True) as conn:
        # A throwaway test server: durability buys nothing, speed buys a lot.
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            conn.execute(f"ALTER SYSTEM SET {setting} = off")
        conn.execute("SELECT pg_reload_conf()")
        _drop_orphaned_test_databases(conn, dsn)
    return dsn


@pytest.fixture(scope="session")
def pg_template(pg_server_dsn: str) -> str:
    """Name of the migrated template database every ``pg_dsn`` is cloned from."""
    name = f"continuum_template_{migrations_fingerprint()[:10]}"
    ensure_template(pg_server_dsn, name)
    return name


@pytest.fixture
def pg_dsn(pg_server_dsn: str, pg_template: str) -> Iterator[str]:
    """DSN of a fresh, fully migrated database of this test's own; dropped afterwards."""
    name = _new_database_name()
    dsn = clone_database(pg_server_dsn, pg_template, name)
    try:
        yield dsn
    finally:
        drop_database(pg_server_dsn, name)


@pytest.fixture
def empty_db(pg_server_dsn: str) -> Iterator[str]:
    """DSN of a fresh database with no Continuum schema at all; dropped afterwards."""
    name = _new_database_name()
    dsn = create_database(pg_server_dsn, name, if_missing=False)
    try:
        yield dsn
    finally:
        drop_database(pg_server_dsn, name)


@pytest.fixture(scope="session")
def dump_schema() -> Callable[[str], str]:
    """``dump_schema(dsn)``: the schema of ``dsn`` as canonical, diffable text."""
    return schema_dump


_DUMP_QUERIES: dict[str, str] = {
    "table": """
        SELECT format('%s kind=%s partition_key=%s', c.relname, c.relkind,
                      coalesce(pg_get_partkeydef(c.oid), '-'))
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
    """,
    "column": """
        SELECT format('%s.%s #%s %s%s default=%s', c.relname, a.attname, a.attnum,
                      format_type(a.atttypid, a.atttypmod),
                      CASE WHEN a.attnotnull THEN ' not null' ELSE '' END,
                      coalesce(pg_get_expr(d.adbin, d.adrelid), '-'))
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND NOT c.relispartition
          AND a.attnum > 0 AND NOT a.attisdropped
    """,
    "constraint": """
        SELECT format('%s %s: %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND NOT c.relispartition
    """,
    "index": """
        SELECT pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND NOT c.relispartition
    """,
    "sequence": """
        SELECT format('%s %s owned_by=%s', c.relname, format_type(s.seqtypid, NULL),
                      coalesce((SELECT t.relname || '.' || a.attname
                                FROM pg_depend dep
                                JOIN pg_class t ON t.oid = dep.refobjid
                                JOIN pg_attribute a ON a.attrelid = t.oid
                                                   AND a.attnum = dep.refobjsubid
                                WHERE dep.objid = c.oid AND dep.deptype = 'a'), '-'))
        FROM pg_sequence s
        JOIN pg_class c ON c.oid = s.seqrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema()
    """,
}


def schema_dump(dsn: str) -> str:
    """The Continuum schema at ``dsn`` as sorted lines, one object per line."""
    lines: list[str] = []
    with psycopg.connect(dsn, autocommit=True) as conn, conn.cursor(row_factory=tuple_row) as cur:
        for kind, sql_text in _DUMP_QUERIES.items():
            rows = cur.execute(sql_text.encode()).fetchall()
            lines.extend(f"{kind} {row[0]}" for row in sorted(rows))
    return "\n".join(lines) + "\n"


def _new_database_name() -> str:
    return f"{_DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:12]}"


def _drop_orphaned_test_databases(conn: psycopg.Connection[tuple[object, ...]], dsn: str) -> None:
    """Drop ``t_<pid>_*`` databases left by killed sessions (their pid is gone)."""
    names = [
        str(row[0])
        for row in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", ("t\\_%",)
        ).fetchall()
    ]
    for name in names:
        pid_text = name[len(_DB_PREFIX) :].split("_", 1)[0]
        if pid_text.isdigit() and not psutil.pid_exists(int(pid_text)):
            drop_database(dsn, name)
