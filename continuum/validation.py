"""Checks on the names a user hands the client, before anything reaches PostgreSQL.

PostgreSQL refuses some strings outright (NUL characters; lone surrogates, which are not
UTF-8), an over-long id would overflow a NOTIFY payload or an index row, and a value of
the wrong type turns into an operator error. Each check raises a typed
:class:`~continuum.errors.ContinuumError` that says which argument of which operation was
wrong, so bad input never surfaces as a raw driver error and never writes anything.
"""

from __future__ import annotations

from typing import Any

from continuum.errors import PayloadError

MAX_ID = 255  # characters of a run id given to start(id=...); children append to it
MAX_LOOKUP_ID = 4096  # no run id can be longer (children of children of ... stay well below)
MAX_NAME = 255  # signal names, namespaces, attribute keys


def text_problem(value: str) -> str | None:
    """Why PostgreSQL cannot store ``value`` as text, or ``None``."""
    if "\x00" in value:
        return "contains a NUL character (\\x00), which PostgreSQL text cannot hold"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone surrogate, which is not valid UTF-8"
    return None


def check_name(value: Any, *, what: str, operation: str, max_len: int = MAX_NAME) -> str:
    """A non-empty string PostgreSQL can store, at most ``max_len`` characters."""
    if not isinstance(value, str):
        raise PayloadError(
            f"{operation}: {what} must be a string, got {type(value).__name__} ({value!r:.60})"
        )
    if not value:
        raise PayloadError(f"{operation}: {what} must not be empty")
    if len(value) > max_len:
        raise PayloadError(
            f"{operation}: {what} is {len(value)} characters long; the limit is {max_len}"
        )
    problem = text_problem(value)
    if problem:
        raise PayloadError(f"{operation}: {what} {problem}")
    return value


def check_run_id(value: Any, *, operation: str) -> str:
    """A run id to look up (``RunNotFound`` is left to the database for unknown ones)."""
    return check_name(value, what="the run id", operation=operation, max_len=MAX_LOOKUP_ID)


def check_new_run_id(value: Any, *, operation: str) -> str:
    """A business key for a new run (``start(id=...)``)."""
    return check_name(value, what="the run id", operation=operation, max_len=MAX_ID)


def check_attribute_keys(attributes: dict[Any, Any], *, operation: str) -> None:
    """Attribute keys are non-empty strings PostgreSQL can store."""
    for key in attributes:
        check_name(key, what=f"attribute key {key!r:.40}", operation=operation)
