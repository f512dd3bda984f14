"""Single connections, with failures turned into errors that teach.

Every connection is opened with ``autocommit=False`` unless asked: callers own their
transactions. Pools (which may start the embedded server) are in :mod:`continuum.db.pool`.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import TupleRow

from continuum.db.dsn import describe_dsn, one_line, redact, validate_dsn
from continuum.errors import DatabaseUnavailable

_HINT = (
    "check that the server is running and that --dsn / $CONTINUUM_DATABASE_URL is right "
    "(unset both to use the embedded server)"
)


def unavailable(dsn: str, exc: BaseException) -> DatabaseUnavailable:
    """A :class:`DatabaseUnavailable` naming where ``dsn`` points (never its password)."""
    return DatabaseUnavailable(
        f"cannot connect to PostgreSQL ({describe_dsn(dsn)}): {redact(one_line(exc))}; {_HINT}"
    )


def connect(
    dsn: str,
    *,
    autocommit: bool = False,
    connect_timeout: float = 10.0,
    application_name: str = "continuum",
) -> psycopg.Connection[TupleRow]:
    """Open one connection, raising :class:`DatabaseUnavailable` if the server refuses.

    A DSN that does not parse raises :class:`~continuum.errors.ConfigurationError`.
    """
    validate_dsn(dsn)
    try:
        return psycopg.connect(
            dsn,
            autocommit=autocommit,
            connect_timeout=max(1, round(connect_timeout)),
            application_name=application_name,
        )
    except psycopg.OperationalError as exc:
        raise unavailable(dsn, exc) from None


def check_connection(dsn: str, *, connect_timeout: float = 10.0) -> None:
    """Connect once and run ``SELECT 1``; raise :class:`DatabaseUnavailable` on failure."""
    with connect(dsn, autocommit=True, connect_timeout=connect_timeout) as conn:
        conn.execute("SELECT 1")
