"""Connection pools and connection errors that name the server but never the password."""

from __future__ import annotations

import time

import pytest

from continuum.db.config import DatabaseConfig, describe_dsn, redact
from continuum.db.pool import check_connection, connect, create_pool
from continuum.errors import ConfigurationError, DatabaseUnavailable

pytestmark = pytest.mark.postgres

UNREACHABLE = "postgresql://carol:pa55word@127.0.0.1:1/billing?connect_timeout=2"


def test_pool_connections_are_transactional_with_tuple_rows(pg_dsn: str) -> None:
    with create_pool(pg_dsn) as pool, pool.connection() as conn:
        assert conn.autocommit is False
        assert conn.execute("SELECT 1 AS one").fetchone() == (1,)
        assert conn.info.transaction_status.name == "INTRANS"


def test_pool_with_dict_rows_returns_dicts(pg_dsn: str) -> None:
    with create_pool(pg_dsn, dict_rows=True) as pool, pool.connection() as conn:
        assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}


def test_pool_opens_min_size_connections_with_the_application_name(pg_dsn: str) -> None:
    config = DatabaseConfig(dsn=pg_dsn, pool_min_size=2, pool_max_size=3, application_name="w1")
    with create_pool(config) as pool:
        assert pool.get_stats()["pool_size"] == 2
        with pool.connection() as conn:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'w1'"
                " AND datname = current_database()"
            ).fetchone()
    assert row == (2,)


def test_pool_on_unreachable_server_raises_database_unavailable_quickly() -> None:
    started = time.monotonic()

    with pytest.raises(DatabaseUnavailable) as caught:
        create_pool(DatabaseConfig(dsn=UNREACHABLE, connect_timeout=2))

    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "database 'billing' on host 127.0.0.1 port 1 as user 'carol'" in message
    assert "pa55word" not in message


def test_connect_to_a_missing_database_names_it(pg_server_dsn: str) -> None:
    from continuum.db.config import with_dbname

    with pytest.raises(DatabaseUnavailable, match='database "ghost_db" does not exist'):
        connect(with_dbname(pg_server_dsn, "ghost_db"))


def test_check_connection_succeeds_on_a_live_database(pg_dsn: str) -> None:
    check_connection(pg_dsn)


def test_malformed_dsn_is_a_configuration_error_not_unavailable() -> None:
    with pytest.raises(ConfigurationError):
        check_connection("host=x port")
    with pytest.raises(ConfigurationError):
        create_pool("postgresql://[broken")


@pytest.mark.parametrize(
    "dsn",
    [
        "postgresql://u:topsecret@h/db",
        "host=h user=u password=topsecret dbname=db",
        "host=h password='top secret' dbname=db",
    ],
)
def test_redact_and_describe_never_show_the_password(dsn: str) -> None:
    assert "secret" not in redact(f"failed for {dsn}")
    assert "secret" not in describe_dsn(dsn)
