"""Transient database errors: what counts as one, and how the runtime retries them.

A transient error is a lost connection, a server shutdown, a serialization failure or
a pool that could not hand out a connection in time. Such an error never decides a
run's fate: the operation is retried with backoff, or the activation is dropped and the
run resumed later (crash-and-resume). Anything else is a real error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import psycopg
from psycopg_pool import PoolTimeout
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from continuum.errors import DatabaseUnavailable

T = TypeVar("T")

_log = logging.getLogger("continuum.runtime")


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is a database blip the runtime should ride out."""
    return isinstance(exc, psycopg.OperationalError | PoolTimeout | DatabaseUnavailable)


def retry_transient(
    fn: Callable[[], T],
    *,
    within_s: float = 30.0,
    initial_s: float = 0.05,
    max_wait_s: float = 2.0,
    stop: Callable[[], bool] | None = None,
) -> T:
    """Call ``fn``, retrying transient errors with exponential backoff for ``within_s``.

    The last transient error is re-raised when the time runs out (or ``stop()`` turns
    true); non-transient errors propagate at once.
    """
    stop_cond = stop_after_delay(within_s)
    if stop is not None:
        stop_fn = stop

        def _stop(state: object) -> bool:
            return stop_fn() or bool(stop_cond(state))  # type: ignore[arg-type]

        stopper: object = _stop
    else:
        stopper = stop_cond
    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        wait=wait_exponential(multiplier=initial_s, min=initial_s, max=max_wait_s),
        stop=stopper,  # type: ignore[arg-type]
        reraise=True,
        before_sleep=before_sleep_log(_log, logging.WARNING),
    )
    return retrying(fn)
