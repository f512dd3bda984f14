"""Boot-time registration: record the versions this node can run in the database.

``continuum_workflow_versions`` is the operators' durable view of every workflow hash
any node has loaded (seed v0.3). Workers call :func:`register_versions` when they
start; ``continuum audit`` and ``continuum gc-versions`` read it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import psycopg

from continuum.definitions.versions import VersionRegistry
from continuum.ops.queries import query

_log = logging.getLogger("continuum.ops")


@dataclass
class Registration:
    """What :func:`register_versions` did: versions written, and those it could not load."""

    instance: str
    registered: list[tuple[str, str]] = field(default_factory=list)
    unloadable: list[tuple[str, str]] = field(default_factory=list)


def register_versions(
    conn: psycopg.Connection[Any], registry: VersionRegistry, *, instance: str
) -> Registration:
    """Upsert every manifest version ``registry`` can import into ``continuum_workflow_versions``.

    A version whose frozen module fails to import is skipped (and logged): registering it
    would tell operators this node can run code it cannot. Re-registering refreshes
    ``registered_at``. The table has no per-instance column (versions are a fact about
    the database), so ``instance`` only labels the report and the log line. The caller
    owns the transaction.
    """
    report = Registration(instance=instance)
    for info in registry.versions():
        key = (info.workflow, info.version_hash)
        flow = registry.resolve(*key)
        if flow is None:
            report.unloadable.append(key)
            continue
        conn.execute(
            query("upsert_workflow_version"),
            {
                "workflow": info.workflow,
                "version_hash": info.version_hash,
                "entrypoint": f"{flow.fn.__module__}:{flow.fn.__qualname__}",
            },
        )
        report.registered.append(key)
    if report.unloadable:
        _log.warning(
            "instance %s cannot load %d version(s): %s",
            instance,
            len(report.unloadable),
            ", ".join(f"{w}@{h}" for w, h in report.unloadable),
        )
    _log.info("instance %s registered %d workflow version(s)", instance, len(report.registered))
    return report
