"""Booting ``continuum worker``: wait for the database, and watch the supervisor.

A worker started before its database (a deploy, a host reboot, a container that comes
up first) waits for it: it retries the connection with exponential back-off
(tenacity), saying what it waits for, until it connects or is stopped. A DSN that can
never work fails at once instead: one that does not parse, or a server that answers
and refuses the login (unknown user or database, wrong password, no ``pg_hba.conf``
entry).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

import psycopg
from tenacity import (
    RetryCallState,
    RetryError,
    Retrying,
    retry_if_exception_type,
    wait_exponential,
)

from continuum.db.dsn import describe_dsn, one_line, redact, validate_dsn
from continuum.errors import ConfigurationError, DatabaseUnavailable

# FATAL replies from a server that is there but cannot take connections *yet*.
_TRANSIENT_FATAL = (
    "starting up",
    "shutting down",
    "in recovery mode",
    "not yet accepting connections",
    "too many clients",
    "connection slots are reserved",
    "terminating connection",
)

# Client-side failures of a DSN that parses but can never connect.
_BAD_SETTING = (
    "Servname not supported",  # a port that is not a number
    "invalid integer value",
    "invalid connection option",
    "invalid sslmode value",
)


def refused_login(exc: psycopg.OperationalError) -> bool:
    """Whether this connection failure is for good (not a server that is not up yet).

    libpq reports connection failures without an SQLSTATE, so this reads the message:
    the server's ``FATAL:`` reply (authentication, unknown role or database,
    ``pg_hba.conf``) other than "starting up"-like ones, or a setting libpq rejects.
    """
    text = str(exc)
    if any(phrase in text for phrase in _BAD_SETTING):
        return True
    return "FATAL:" in text and not any(phrase in text for phrase in _TRANSIENT_FATAL)


def _try_connect(dsn: str, timeout_s: float) -> None:
    try:
        with psycopg.connect(
            dsn,
            autocommit=True,
            connect_timeout=max(1, round(timeout_s)),
            application_name="continuum-worker-boot",
        ) as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        where, why = describe_dsn(dsn), redact(one_line(exc))
        if refused_login(exc):
            raise ConfigurationError(
                f"cannot log in to PostgreSQL ({where}): {why}; this will not go away by "
                "waiting: check the host, port, user, password and database name in --dsn / "
                "$CONTINUUM_DATABASE_URL (continuum worker, starting)"
            ) from None
        raise DatabaseUnavailable(why) from None


def wait_for_database(
    dsn: str,
    *,
    stopping: threading.Event,
    say: Callable[[str], None],
    initial_s: float = 0.5,
    max_wait_s: float = 10.0,
    connect_timeout_s: float = 5.0,
) -> bool:
    """Connect to ``dsn`` once, retrying an unreachable server until ``stopping`` is set.

    True once a ``SELECT 1`` succeeded; False if ``stopping`` was set first. Raises
    :class:`ConfigurationError` at once for a DSN that does not parse or a refused login.
    """
    validate_dsn(dsn)
    where = describe_dsn(dsn)

    def before_sleep(state: RetryCallState) -> None:
        outcome = state.outcome
        why = str(outcome.exception()) if outcome is not None else "unknown"
        pause = state.next_action.sleep if state.next_action is not None else 0.0
        say(
            f"waiting for PostgreSQL ({where}): {why}; retrying in {pause:.1f}s "
            f"(attempt {state.attempt_number}); SIGTERM or Ctrl-C to stop"
        )

    def pause(seconds: float) -> None:
        stopping.wait(seconds)  # a stop request ends the pause at once

    retrying = Retrying(
        retry=retry_if_exception_type(DatabaseUnavailable),
        wait=wait_exponential(multiplier=initial_s, min=initial_s, max=max_wait_s),
        stop=lambda _state: stopping.is_set(),
        sleep=pause,
        before_sleep=before_sleep,
        reraise=False,
    )
    try:
        retrying(_try_connect, dsn, connect_timeout_s)
    except RetryError:
        return False
    return not stopping.is_set()


def watch_supervisor(supervisor_pid: int, on_orphaned: Callable[[], None]) -> threading.Thread:
    """Call ``on_orphaned`` once if this process's parent stops being ``supervisor_pid``.

    A supervised worker whose supervisor died (SIGKILL, OOM) drains and exits instead of
    running on unsupervised.
    """

    def watch() -> None:
        while os.getppid() == supervisor_pid:
            time.sleep(1.0)
        on_orphaned()

    thread = threading.Thread(target=watch, name="continuum-supervisor-watch", daemon=True)
    thread.start()
    return thread


__all__ = ["refused_login", "wait_for_database", "watch_supervisor"]
