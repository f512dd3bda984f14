"""Connection strings as text: check one, describe where it points, never leak its password.

A leaf of the storage layer (no connections, no server): everything else in
:mod:`continuum.db` builds on it.
"""

from __future__ import annotations

import os
import re

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from continuum.errors import ConfigurationError

DATABASE_URL_ENV = "CONTINUUM_DATABASE_URL"

_URI_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


def validate_dsn(dsn: str, *, source: str = "the DSN") -> None:
    """Raise :class:`ConfigurationError` unless libpq can parse ``dsn``."""
    try:
        conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise ConfigurationError(
            f"{source} is not a valid PostgreSQL connection string ({redact(one_line(exc))}); "
            "expected e.g. postgresql://user@host:5432/dbname"
        ) from None


def describe_dsn(dsn: str) -> str:
    """A human description of where ``dsn`` points, never including the password.

    ``"database 'app' on host db.internal port 5432 as user 'svc'"``.
    """
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "an unparseable connection string"
    host = str(params.get("host") or os.environ.get("PGHOST") or "the default socket")
    port = params.get("port") or os.environ.get("PGPORT")
    dbname = params.get("dbname") or os.environ.get("PGDATABASE")
    user = params.get("user") or os.environ.get("PGUSER")
    text = f"database {dbname!r}" if dbname else "the default database"
    text += f" on {'socket directory' if host.startswith('/') else 'host'} {host}"
    if port:
        text += f" port {port}"
    if user:
        text += f" as user {user!r}"
    return text


def with_dbname(dsn: str, dbname: str) -> str:
    """``dsn`` pointing at database ``dbname`` instead (same server, same credentials)."""
    return make_conninfo(dsn, dbname=dbname)


def redact(text: str) -> str:
    """``text`` with anything that looks like a password in a connection string masked."""
    return _KV_PASSWORD.sub(r"\1***", _URI_PASSWORD.sub(r"\1***@", text))


def one_line(exc: BaseException) -> str:
    """An exception's message collapsed to one line (libpq messages span several)."""
    return " ".join(part.strip() for part in str(exc).splitlines() if part.strip())
