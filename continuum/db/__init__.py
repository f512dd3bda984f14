"""Continuum's storage foundation: schema migrations, partitions, connections, embedded server.

Layers above (journal, runtime, client) import from here; nothing here imports them.
``migrate`` is not re-exported so that ``continuum.db.migrate`` stays the module; use
``from continuum.db.migrate import migrate``.
"""

from continuum.db.config import DatabaseConfig, describe_dsn, resolve_dsn
from continuum.db.embedded import start_embedded, stop_embedded
from continuum.db.migrate import MigrationError, MigrationReport, pending
from continuum.db.partitions import (
    Partition,
    create_partition,
    drop_old,
    ensure_partitions,
    list_partitions,
)
from continuum.db.pool import check_connection, connect, create_pool

__all__ = [
    "DatabaseConfig",
    "MigrationError",
    "MigrationReport",
    "Partition",
    "check_connection",
    "connect",
    "create_partition",
    "create_pool",
    "describe_dsn",
    "drop_old",
    "ensure_partitions",
    "list_partitions",
    "pending",
    "resolve_dsn",
    "start_embedded",
    "stop_embedded",
]
