"""Real-PostgreSQL test databases for a user's own workflow tests.

The pytest plugin's ``continuum_pg_*`` fixtures are built from these functions; they
work without pytest too. One server per test session: ``$CONTINUUM_TEST_DATABASE_URL``
(any database on a server where that user may ``CREATE DATABASE``), else an embedded
server under ``$CONTINUUM_TEST_HOME`` (default ``./.continuum/test``), started once and
left running for the next session. A migrated template database is built once per
migration set; each test gets a fresh copy of it (a file copy, ~100 ms) that is dropped
afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from continuum.db.admin import clone_database, drop_database, ensure_template
from continuum.db.connection import check_connection
from continuum.db.embedded import start_embedded
from continuum.db.sqlfiles import migrations_fingerprint

TEST_DATABASE_URL_ENV = "CONTINUUM_TEST_DATABASE_URL"
TEST_HOME_ENV = "CONTINUUM_TEST_HOME"


def server_dsn(root: Path | None = None) -> str:
    """An admin DSN of the test server (see the module docstring)."""
    url = os.environ.get(TEST_DATABASE_URL_ENV, "").strip()
    if url:
        check_connection(url)
        return url
    home = os.environ.get(TEST_HOME_ENV, "").strip()
    where = Path(home) if home else (root or Path.cwd()) / ".continuum" / "test"
    return start_embedded(home=where, database="postgres")


def template_name() -> str:
    """The template database for the migrations this Continuum ships."""
    return f"continuum_template_{migrations_fingerprint()[:10]}"


def prepare_template(server_dsn: str) -> str:
    """Build (or reuse) the migrated template on ``server_dsn``; returns its name."""
    name = template_name()
    ensure_template(server_dsn, name)
    return name


@contextmanager
def fresh_database(server_dsn: str, template: str) -> Iterator[str]:
    """A DSN of a new database cloned from ``template``, dropped on exit."""
    name = f"continuum_test_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    dsn = clone_database(server_dsn, template, name)
    try:
        yield dsn
    finally:
        drop_database(server_dsn, name)
