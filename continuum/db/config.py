"""Where the database is, and how to talk about it without leaking secrets.

Resolution order for a DSN, everywhere in Continuum (client, workers, CLI):

1. an explicit ``dsn=`` argument (``--dsn`` on the command line);
2. ``$CONTINUUM_DATABASE_URL``;
3. the embedded PostgreSQL server under ``./.continuum`` (``$CONTINUUM_HOME``).

The text helpers (``validate_dsn``, ``describe_dsn``, ``redact``, ...) live in
:mod:`continuum.db.dsn` and are re-exported here.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from continuum.db.dsn import (
    DATABASE_URL_ENV,
    describe_dsn,
    one_line,
    redact,
    validate_dsn,
    with_dbname,
)
from continuum.db.embedded import start_embedded

__all__ = [
    "DATABASE_URL_ENV",
    "DatabaseConfig",
    "describe_dsn",
    "one_line",
    "redact",
    "resolve_dsn",
    "validate_dsn",
    "with_dbname",
]


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
    return start_embedded(home=embedded_home)
