"""Create, clone and drop databases on a server (for the embedded default and for tests).

A migrated *template* database makes a fresh, fully migrated database a file copy away:
``ensure_template`` builds it once (and rebuilds it when a migration file changes or a
new month needs its event partition), ``clone_database`` copies it per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import psycopg
from psycopg import sql

from continuum.db.connection import connect
from continuum.db.dsn import with_dbname
from continuum.db.migrate import migrate
from continuum.db.partitions import current_month
from continuum.db.sqlfiles import migrations_fingerprint, query, scalar

DATABASE_LOCK_KEY = 0x436F6E74_00000003
TEMPLATE_LOCK_KEY = 0x436F6E74_00000004
DEFAULT_TEMPLATE = "continuum_template"

Strategy = Literal["file_copy", "wal_log"]


def database_exists(admin_dsn: str, name: str) -> bool:
    """True when database ``name`` exists on the server of ``admin_dsn``."""
    with connect(admin_dsn, autocommit=True) as conn:
        return bool(scalar(conn, query("database_exists"), (name,)))


def create_database(admin_dsn: str, name: str, *, if_missing: bool = True) -> str:
    """Create database ``name`` (serialized across processes); return a DSN for it.

    ``admin_dsn`` must point at an existing database (e.g. ``postgres``) as a user allowed
    to create databases. With ``if_missing`` an existing database is left alone.
    """
    with connect(admin_dsn, autocommit=True) as conn, _session_lock(conn, DATABASE_LOCK_KEY):
        if not (if_missing and scalar(conn, query("database_exists"), (name,))):
            conn.execute(_format("create_database", database=sql.Identifier(name)))
    return with_dbname(admin_dsn, name)


def clone_database(
    admin_dsn: str, template: str, name: str, *, strategy: Strategy = "wal_log"
) -> str:
    """Create database ``name`` as a copy of ``template``; return a DSN for it.

    ``wal_log`` (the default) and ``file_copy`` measure the same for our small template;
    ``wal_log`` avoids the checkpoints ``file_copy`` forces on everyone else. The
    template must have no open connections while it is copied.
    """
    with connect(admin_dsn, autocommit=True) as conn:
        conn.execute(
            _format(
                "create_database_from_template",
                database=sql.Identifier(name),
                template=sql.Identifier(template),
                strategy=sql.SQL(strategy.upper()),
            )
        )
    return with_dbname(admin_dsn, name)


def drop_database(admin_dsn: str, name: str) -> None:
    """Drop database ``name`` if it exists, terminating its connections first."""
    with connect(admin_dsn, autocommit=True) as conn:
        if scalar(conn, query("database_exists"), (name,)):
            conn.execute(
                _format("mark_template", database=sql.Identifier(name), flag=sql.SQL("false"))
            )
        conn.execute(_format("drop_database", database=sql.Identifier(name)))


def ensure_template(admin_dsn: str, name: str = DEFAULT_TEMPLATE) -> str:
    """Make sure template database ``name`` holds the current, fully migrated schema.

    Rebuilt when missing, half-built, built from different migration files, or built in
    an earlier UTC month (its event partitions start at the month it was built). Safe to
    call from several processes at once. Returns a DSN for the template — connect to it
    only to inspect it, and disconnect before cloning.
    """
    with connect(admin_dsn, autocommit=True) as conn, _session_lock(conn, TEMPLATE_LOCK_KEY):
        month = current_month(conn)
        stamp = f"continuum-template {migrations_fingerprint()} {month:%Y-%m}"
        if scalar(conn, query("database_comment"), (name,)) == stamp:
            return with_dbname(admin_dsn, name)
        if scalar(conn, query("database_exists"), (name,)):
            conn.execute(
                _format("mark_template", database=sql.Identifier(name), flag=sql.SQL("false"))
            )
            conn.execute(_format("drop_database", database=sql.Identifier(name)))
        conn.execute(_format("create_database", database=sql.Identifier(name)))
        template_dsn = with_dbname(admin_dsn, name)
        migrate(template_dsn)
        conn.execute(_format("mark_template", database=sql.Identifier(name), flag=sql.SQL("true")))
        # The stamp goes last: a build that died half-way has none and is rebuilt.
        conn.execute(
            _format("comment_database", database=sql.Identifier(name), comment=sql.Literal(stamp))
        )
    return template_dsn


@contextmanager
def _session_lock(conn: psycopg.Connection[Any], key: int) -> Iterator[None]:
    scalar(conn, query("advisory_lock"), (key,))
    try:
        yield
    finally:
        scalar(conn, query("advisory_unlock"), (key,))


def _format(name: str, **parts: sql.Composable) -> sql.Composed:
    return sql.SQL(query(name)).format(**parts)
