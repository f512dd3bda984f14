"""Named instances: one binding of Continuum to one database (DSN, pool, journal).

This layer sits between the journal and its users: the client and the worker runtime
each open an :class:`Instance` here, and neither reaches into the other for it (a worker
takes what it needs from its client through :class:`Binding`).

Several instances may live in one process, each with its own DSN and connection pool
(``Client(dsn=a, instance="billing")`` next to ``Client(dsn=b, instance="search")``).
Clients and workers of the same name and DSN share one :class:`Instance`; binding a name
that is still open to a *different* database is refused, because telemetry, lease
owners and the CLI identify an instance by its name.

Schema policy: the embedded default database is migrated automatically (a newcomer has
nothing to run); an explicit database must already be migrated, otherwise the first use
raises :class:`~continuum.errors.ConfigurationError` pointing at ``continuum migrate``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol

import psycopg
from psycopg_pool import ConnectionPool

from continuum.db.config import DatabaseConfig
from continuum.db.dsn import DATABASE_URL_ENV, describe_dsn, validate_dsn
from continuum.db.pool import create_pool
from continuum.errors import ConfigurationError

if TYPE_CHECKING:
    from continuum.definitions.versions import VersionRegistry
    from continuum.journal.postgres import PostgresJournal


class Binding(Protocol):
    """What a worker takes from the client it is given (a ``continuum.Client`` is one):
    the instance's name, its resolved database and the build's workflow versions."""

    @property
    def instance_name(self) -> str: ...

    @property
    def dsn(self) -> str: ...

    @property
    def versions(self) -> VersionRegistry: ...


def uses_embedded(dsn: str | None) -> bool:
    """Whether ``dsn`` (possibly ``None``) resolves to the embedded server."""
    return not dsn and not os.environ.get(DATABASE_URL_ENV, "").strip()


class Instance:
    """A named Continuum instance: resolved DSN, connection pool and Postgres journal.

    Nothing touches the database until :meth:`open` (called lazily by clients/workers).
    """

    def __init__(
        self,
        name: str,
        dsn: str | None = None,
        *,
        pool_max_size: int = 8,
        application_name: str | None = None,
    ) -> None:
        if dsn:
            validate_dsn(dsn)
        self.name = name
        self._dsn = dsn
        self.embedded = uses_embedded(dsn)
        self.pool_max_size = pool_max_size
        self.application_name = application_name or f"continuum:{name}"
        self._lock = threading.Lock()
        self._pool: ConnectionPool[Any] | None = None
        self._journal: PostgresJournal | None = None
        self._resolved: str | None = None
        self._refs = 0

    @property
    def dsn(self) -> str:
        """The resolved DSN (starting the embedded server if that is the default)."""
        if self._resolved is None:
            self._resolved = DatabaseConfig(dsn=self._dsn).resolved_dsn()
        return self._resolved

    def open(self) -> None:
        """Connect, check (or, for the embedded default, apply) the schema, build the pool."""
        with self._lock:
            if self._pool is not None:
                return
            dsn = self.dsn
            ensure_schema(dsn, migrate_if_missing=self.embedded)
            config = DatabaseConfig(
                dsn=dsn,
                pool_min_size=1,
                pool_max_size=self.pool_max_size,
                application_name=self.application_name,
            )
            pool = create_pool(config)
            self._journal = make_journal(pool, instance=self.name)
            self._pool = pool

    @property
    def journal(self) -> PostgresJournal:
        """The instance's journal (opens the instance on first use)."""
        self.open()
        assert self._journal is not None
        return self._journal

    @property
    def pool(self) -> ConnectionPool[Any]:
        """The instance's connection pool (opens the instance on first use)."""
        self.open()
        assert self._pool is not None
        return self._pool

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; commits on success, rolls back on error."""
        with self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        """Close the pool; the instance may be opened again later."""
        with self._lock:
            pool, self._pool, self._journal = self._pool, None, None
        if pool is not None:
            pool.close()

    def __repr__(self) -> str:
        where = describe_dsn(self._resolved) if self._resolved else "unresolved"
        return f"<Instance {self.name!r} {where}>"


def make_journal(
    pool: ConnectionPool[Any], *, instance: str = "default", lease_ttl_s: float | None = None
) -> PostgresJournal:
    """A Postgres journal over ``pool`` (with the given run and task lease TTL)."""
    from continuum.journal.postgres import PostgresJournal

    if lease_ttl_s is None:
        return PostgresJournal(pool, instance=instance)
    ttl = timedelta(seconds=lease_ttl_s)
    return PostgresJournal(pool, instance=instance, lease_ttl=ttl, task_lease_ttl=ttl)


def ensure_schema(dsn: str, *, migrate_if_missing: bool) -> None:
    """Check the schema at ``dsn`` is current; migrate it instead when allowed."""
    from continuum.db.connection import connect
    from continuum.db.migrate import migrate, require_current_schema

    with connect(dsn, application_name="continuum-schema-check") as conn:
        try:
            require_current_schema(conn)
            return
        except ConfigurationError:
            if not migrate_if_missing:
                raise ConfigurationError(
                    f"the Continuum schema is missing or out of date on {describe_dsn(dsn)}; "
                    "run `continuum migrate --dsn ...` against that database first"
                ) from None
    migrate(dsn)


_registry_lock = threading.Lock()
_registry: dict[str, Instance] = {}


def acquire(name: str, dsn: str | None = None, *, pool_max_size: int = 8) -> Instance:
    """The open instance ``name`` (shared, reference-counted), or a new one for ``dsn``.

    Raises :class:`ConfigurationError` when ``name`` is open on a different database.
    """
    with _registry_lock:
        current = _registry.get(name)
        if current is not None:
            if dsn and current._dsn != dsn:
                raise ConfigurationError(
                    f"instance {name!r} is already bound to {describe_dsn(current.dsn)} in this "
                    "process; give the second database its own instance name "
                    "(Client(dsn, instance='...'))"
                )
            current._refs += 1
            return current
        inst = Instance(name, dsn, pool_max_size=pool_max_size)
        inst._refs = 1
        _registry[name] = inst
        return inst


def release(inst: Instance) -> None:
    """Drop one reference; the last one closes the pool and frees the name."""
    with _registry_lock:
        inst._refs -= 1
        if inst._refs > 0:
            return
        if _registry.get(inst.name) is inst:
            del _registry[inst.name]
    inst.close()


def instances() -> dict[str, Instance]:
    """The instances open in this process, by name."""
    with _registry_lock:
        return dict(_registry)
