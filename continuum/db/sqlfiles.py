"""Load SQL from package data: numbered migrations and named queries.

SQL lives in ``.sql`` files so it can be reviewed as SQL. A queries file holds several
statements, each introduced by a ``-- name: <query_name>`` line. Text read from our own
package files is trusted and typed as ``LiteralString`` (the type psycopg asks for);
the only values ever spliced in are identifiers, through :mod:`psycopg.sql`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, LiteralString

import psycopg
from psycopg import sql
from psycopg.rows import tuple_row

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")
_MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

MIGRATIONS_PACKAGE = "continuum.db.sql.migrations"


@dataclass(frozen=True)
class Migration:
    """One numbered migration file, e.g. ``0001_initial.sql``."""

    version: str
    name: str
    sql: LiteralString
    checksum: str

    @property
    def id(self) -> str:
        """``"0001_initial"``: version and name, as shown to operators."""
        return f"{self.version}_{self.name}"


def parse_queries(text: str) -> dict[str, LiteralString]:
    """Split a queries file into ``{name: sql}`` on ``-- name: <name>`` header lines."""
    queries: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if match:
            name = match.group(1)
            if name in queries:
                raise ValueError(f"query {name!r} is defined twice")
            current = queries[name] = []
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip().rstrip(";").strip() for name, lines in queries.items()}


@cache
def load_queries(
    package: str = "continuum.db.sql", resource: str = "queries.sql"
) -> dict[str, LiteralString]:
    """The named queries of ``resource`` in ``package`` (cached)."""
    return parse_queries(files(package).joinpath(resource).read_text(encoding="utf-8"))


def query(name: str) -> LiteralString:
    """One named query of ``continuum/db/sql/queries.sql``."""
    return load_queries()[name]


@cache
def load_migrations(package: str = MIGRATIONS_PACKAGE) -> tuple[Migration, ...]:
    """Every numbered migration in ``package``, in version order."""
    found: dict[str, Migration] = {}
    for entry in files(package).iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if not match:
            continue
        text = entry.read_text(encoding="utf-8")
        version, name = match.groups()
        if version in found:
            raise ValueError(f"two migrations share version {version}: {found[version].id}, {name}")
        found[version] = Migration(
            version=version,
            name=name,
            sql=text,
            checksum=hashlib.sha256(text.encode()).hexdigest(),
        )
    return tuple(found[v] for v in sorted(found))


def migrations_fingerprint(migrations: tuple[Migration, ...] | None = None) -> str:
    """A short hash of every migration's version and text: changes when any file does."""
    digest = hashlib.sha256()
    for migration in migrations if migrations is not None else load_migrations():
        digest.update(f"{migration.version}:{migration.checksum};".encode())
    return digest.hexdigest()[:16]


def scalar(
    conn: psycopg.Connection[Any],
    stmt: LiteralString | sql.SQL | sql.Composed,
    params: tuple[Any, ...] = (),
) -> Any:
    """The first column of the first row of ``stmt`` (``None`` if no row), any row factory."""
    with conn.cursor(row_factory=tuple_row) as cur:
        row = cur.execute(stmt, params or None).fetchone()
    return None if row is None else row[0]
