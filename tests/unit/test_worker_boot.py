"""Which connection failures a booting worker waits out, and which fail at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from continuum.cli.worker_boot import refused_login, wait_for_database, watch_supervisor
from continuum.errors import ConfigurationError


def _failure(dsn: str) -> psycopg.OperationalError:
    with pytest.raises(psycopg.OperationalError) as err:
        psycopg.connect(dsn, connect_timeout=2)
    return err.value


def test_server_replies_that_will_not_change_are_final() -> None:
    for text in (
        'connection failed: FATAL:  password authentication failed for user "app"',
        'connection failed: FATAL:  role "nobody" does not exist',
        'connection failed: FATAL:  database "nodb" does not exist',
        'FATAL:  no pg_hba.conf entry for host "10.0.0.1", user "app", database "app"',
    ):
        assert refused_login(psycopg.OperationalError(text)), text


def test_a_server_that_is_not_up_yet_is_waited_for() -> None:
    for text in (
        "connection failed: FATAL:  the database system is starting up",
        "FATAL:  the database system is shutting down",
        "FATAL:  sorry, too many clients already",
        "connection refused: Is the server running on that host and accepting TCP/IP?",
    ):
        assert not refused_login(psycopg.OperationalError(text)), text


def test_real_libpq_failures_are_classified(tmp_path: Path) -> None:
    assert not refused_login(_failure(f"postgresql://u@/db?host={tmp_path}&port=5999"))
    assert refused_login(_failure("postgresql://u@localhost:notaport/db"))
    assert refused_login(_failure(f"postgresql://u@/db?host={tmp_path}&sslmode=bogus"))


def test_waiting_says_where_and_ends_when_stopped(tmp_path: Path) -> None:
    stopping = threading.Event()
    said: list[str] = []
    threading.Timer(0.8, stopping.set).start()
    started = time.monotonic()
    connected = wait_for_database(
        f"postgresql://u@/db?host={tmp_path}&port=5999",
        stopping=stopping,
        say=said.append,
        initial_s=0.1,
    )
    assert connected is False
    assert time.monotonic() - started < 3
    assert len(said) >= 2
    assert all(f"socket directory {tmp_path}" in s and "retrying in" in s for s in said), said
    assert "attempt 1" in said[0] and "attempt 2" in said[1]


def test_a_dsn_that_cannot_work_fails_at_once() -> None:
    stopping = threading.Event()
    with pytest.raises(ConfigurationError, match="not a valid PostgreSQL connection string"):
        wait_for_database("host=db dbname", stopping=stopping, say=print)
    with pytest.raises(ConfigurationError, match="will not go away by waiting"):
        wait_for_database("postgresql://u@localhost:notaport/db", stopping=stopping, say=print)


def test_the_supervisor_watch_fires_when_the_parent_is_not_the_supervisor() -> None:
    fired = threading.Event()
    watch_supervisor(-1, fired.set).join(5)  # our parent is never pid -1
    assert fired.is_set()
