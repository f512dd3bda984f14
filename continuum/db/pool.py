"""Connections and connection pools, with failures turned into errors that teach.

Every connection is opened with ``autocommit=False``: callers own their transactions.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import psycopg
from psycopg.rows import DictRow, TupleRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from continuum.db.config import DatabaseConfig, describe_dsn, one_line, redact, validate_dsn
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


@overload
def create_pool(
    config: DatabaseConfig | str | None = ...,
    *,
    dict_rows: Literal[False] = ...,
    open: bool = ...,
) -> ConnectionPool[psycopg.Connection[TupleRow]]: ...


@overload
def create_pool(
    config: DatabaseConfig | str | None = ...,
    *,
    dict_rows: Literal[True],
    open: bool = ...,
) -> ConnectionPool[psycopg.Connection[DictRow]]: ...


def create_pool(
    config: DatabaseConfig | str | None = None,
    *,
    dict_rows: bool = False,
    open: bool = True,
) -> ConnectionPool[Any]:
    """A psycopg ``ConnectionPool`` for ``config`` (a :class:`DatabaseConfig` or a DSN).

    The DSN is resolved (explicit, ``$CONTINUUM_DATABASE_URL``, embedded) and checked with
    one real connection first, so an unreachable server raises
    :class:`DatabaseUnavailable` here rather than a bare pool timeout later. With
    ``open=True`` the pool is opened and has ``pool_min_size`` connections ready.
    ``dict_rows=True`` makes every connection use ``dict_row``. Connections are not
    autocommit. Close the pool (``pool.close()`` or ``with pool:``) when done.
    """
    if config is None:
        config = DatabaseConfig()
    elif isinstance(config, str):
        config = DatabaseConfig(dsn=config)
    dsn = config.resolved_dsn()
    check_connection(dsn, connect_timeout=config.connect_timeout)

    kwargs: dict[str, Any] = {
        "autocommit": False,
        "application_name": config.application_name,
        "connect_timeout": max(1, round(config.connect_timeout)),
    }
    if dict_rows:
        kwargs["row_factory"] = dict_row
    idle_ms = round(config.idle_in_transaction_timeout * 1000)

    def configure(conn: psycopg.Connection[Any]) -> None:
        conn.execute(
            "SELECT set_config('idle_in_transaction_session_timeout', %s, false)",
            (str(idle_ms),),
        )
        conn.commit()

    pool: ConnectionPool[Any] = ConnectionPool(
        dsn,
        configure=configure if idle_ms else None,
        min_size=config.pool_min_size,
        max_size=max(config.pool_max_size, config.pool_min_size),
        kwargs=kwargs,
        open=False,
        name=config.application_name,
        timeout=config.connect_timeout,
        check=ConnectionPool.check_connection if config.check_on_checkout else None,
    )
    if open:
        try:
            pool.open(wait=True, timeout=config.connect_timeout)
        except PoolTimeout as exc:
            pool.close()
            raise unavailable(dsn, exc) from None
    return pool
