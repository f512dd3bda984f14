"""Where the database is, and how to talk about it without leaking secrets.

Resolution order for a DSN, everywhere in Continuum (client, workers, CLI):

1. an explicit ``dsn=`` argument (``--dsn`` on the command line);
2. ``$CONTINUUM_DATABASE_URL``;
3. the embedded PostgreSQL server under ``./.continuum`` (``$CONTINUUM_HOME``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from pydantic import BaseModel, ConfigDict, Field

from continuum.errors import ConfigurationError

DATABASE_URL_ENV = "CONTINUUM_DATABASE_URL"

_URI_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")
_KV_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class DatabaseConfig(BaseModel):
    """How one Continuum instance connects to PostgreSQL.

    ``dsn=None`` means "resolve it": ``$CONTINUUM_DATABASE_URL``, else the embedded server.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    dsn: str | None = None
    pool_min_size: int = Field(default=1, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
    application_name: str = "continuum"
    connect_timeout: float = Field(default=10.0, gt=0)
    # Run a cheap query on every checkout so a connection killed server-side is
    # replaced before use; costs one round trip per checkout.
    check_on_checkout: bool = False
    embedded_home: Path | None = None
    # The server ends a session that sits inside a transaction this long (seconds; 0:
    # never). Continuum's own transactions never idle; a process frozen mid-transaction
    # (SIGSTOP, a VM stall, a debugger) does, holding row locks that would otherwise keep
    # its runs from being taken over until it wakes.
    idle_in_transaction_timeout: float = Field(default=10.0, ge=0)

    def resolved_dsn(self) -> str:
        """The DSN to use: explicit, then ``$CONTINUUM_DATABASE_URL``, then embedded."""
        return resolve_dsn(self.dsn, embedded_home=self.embedded_home)


def resolve_dsn(dsn: str | None = None, *, embedded_home: Path | None = None) -> str:
    """Resolve a DSN: ``dsn`` if given, else ``$CONTINUUM_DATABASE_URL``, else embedded.

    Starting (or reusing) the embedded server is the last resort and may take a moment
    the first time. Raises :class:`ConfigurationError` for a DSN that does not parse.
    """
    if dsn:
        validate_dsn(dsn, source="the DSN")
        return dsn
    env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if env:
        validate_dsn(env, source=f"${DATABASE_URL_ENV}")
        return env
    from continuum.db.embedded import start_embedded

    return start_embedded(home=embedded_home)


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
