"""Connection pools, with failures turned into errors that teach.

Every connection is opened with ``autocommit=False``: callers own their transactions.
Single connections (``connect``, ``check_connection``) live in
:mod:`continuum.db.connection` and are re-exported here.
"""

from __future__ import annotations

from typing import Any, Literal, overload

import psycopg
from psycopg.rows import DictRow, TupleRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from continuum.db.config import DatabaseConfig
from continuum.db.connection import check_connection, connect, unavailable

__all__ = ["check_connection", "connect", "create_pool", "unavailable"]


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
