"""Options and error handling shared by every CLI command group."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
import psycopg

from continuum.db.config import resolve_dsn
from continuum.db.connection import connect
from continuum.db.dsn import one_line, redact
from continuum.db.migrate import require_current_schema
from continuum.errors import ContinuumError

F = TypeVar("F", bound=Callable[..., Any])

DSN_HELP = "PostgreSQL DSN (default: $CONTINUUM_DATABASE_URL, else the embedded server)."


def dsn_option(fn: F) -> F:
    """``--dsn``: every command that touches the database takes it."""
    return click.option("--dsn", default=None, metavar="DSN", help=DSN_HELP)(fn)


def format_option(fn: F) -> F:
    """``--format text|json``: json wherever a machine reads the output."""
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(["text", "json"]),
        default="text",
        show_default=True,
        help="Output format.",
    )(fn)


@contextmanager
def errors_as_one_line() -> Iterator[None]:
    """Turn Continuum and database errors into a one-line ``click`` error (no traceback)."""
    try:
        yield
    except ContinuumError as exc:
        raise click.ClickException(redact(one_line(exc))) from None
    except psycopg.Error as exc:
        raise click.ClickException(f"database error: {redact(one_line(exc))}") from None


@contextmanager
def schema_connection(dsn: str | None) -> Iterator[psycopg.Connection[Any]]:
    """A connection to a database whose schema is current (else: run `continuum migrate`)."""
    with connect(resolve_dsn(dsn), application_name="continuum-cli") as conn:
        require_current_schema(conn)
        conn.commit()
        yield conn


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON."""
    click.echo(json.dumps(value, indent=2, default=str))
