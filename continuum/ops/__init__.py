"""Operator tools for versions and history: registration, audit, gc, compatibility, archival.

Each function takes an open psycopg connection and never commits it on the caller's
behalf except inside its own ``conn.transaction()`` blocks (a savepoint when the caller
already has a transaction open). The CLI commands ``continuum audit``, ``gc-versions``,
``replay --against-current`` and ``archive-continued-chains`` are thin wrappers.
"""

from __future__ import annotations

from continuum.ops.archive import ArchiveReport, archive_continued_chains
from continuum.ops.audit import AuditReport, audit
from continuum.ops.compat import CompatResult, check_against_current, load_history
from continuum.ops.gc import (
    GcReport,
    gc_project_versions,
    gc_versions_db,
    pinned_versions,
)
from continuum.ops.registry_sync import Registration, register_versions

__all__ = [
    "ArchiveReport",
    "AuditReport",
    "CompatResult",
    "GcReport",
    "Registration",
    "archive_continued_chains",
    "audit",
    "check_against_current",
    "gc_project_versions",
    "gc_versions_db",
    "load_history",
    "pinned_versions",
    "register_versions",
]
