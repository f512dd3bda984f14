"""``continuum gc-versions``: forget versions nothing needs, never one an open run needs.

A version is kept when it is *current* (new runs start on it), *pinned* (a running or
suspended run journaled it — seed v0.4: open runs are pins) or advertised by a *live
worker*. Everything else is removable: its ``continuum_workflow_versions`` row, its
manifest entry and its frozen ``V_<hash>.py`` file. Nothing is deleted without
``execute=True``; the row delete re-checks the pin in SQL, so a plan that raced with
the world never removes a pinned row.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import psycopg
from pydantic import BaseModel, Field

from continuum.definitions.versions import VersionRegistry
from continuum.ops.queries import query
from continuum.ops.workers import LIVE_WITHIN, live_version_keys, live_workers, version_key
from continuum.progress import Progress, silent
from continuum_codegen.build import gc_versions as gc_version_files
from continuum_codegen.render import relative_posix

KeepReason = Literal["current", "pinned", "live_worker"]


class VersionRef(BaseModel):
    """A ``(workflow, version_hash)`` pair, with why it was kept when it was."""

    workflow: str
    version_hash: str
    reason: KeepReason | None = None


class DbGcReport(BaseModel):
    """What :func:`gc_versions_db` found in (and, executed, removed from) the table."""

    executed: bool
    removable: list[VersionRef] = Field(default_factory=list)
    kept: list[VersionRef] = Field(default_factory=list)
    deleted: list[VersionRef] = Field(default_factory=list)


class FileGcReport(BaseModel):
    """What the manifest/file side of gc found (and, executed, removed)."""

    executed: bool
    removable: list[VersionRef] = Field(default_factory=list)
    kept_pinned: list[VersionRef] = Field(default_factory=list)
    deleted_files: list[str] = Field(default_factory=list)


class GcReport(BaseModel):
    """Both sides of ``continuum gc-versions``; ``to_json()`` is its JSON output."""

    executed: bool
    pinned: list[str]
    database: DbGcReport
    files: FileGcReport | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole report."""
        return self.model_dump(mode="json")


def pinned_pairs(conn: psycopg.Connection[Any]) -> set[tuple[str, str]]:
    """``(workflow, version_hash)`` of every running or suspended run."""
    rows = conn.execute(query("pinned_versions")).fetchall()
    return {(str(row[0]), str(row[1])) for row in rows}


def pinned_versions(conn: psycopg.Connection[Any]) -> set[str]:
    """Hashes of every running or suspended run: versions gc must never remove."""
    return {digest for _, digest in pinned_pairs(conn)}


def _current(registry: VersionRegistry) -> set[tuple[str, str]]:
    return {(v.workflow, v.version_hash) for v in registry.versions() if v.current}


def gc_versions_db(
    conn: psycopg.Connection[Any],
    registry: VersionRegistry,
    execute: bool = False,
    *,
    live_within: timedelta = LIVE_WITHIN,
    progress: Progress = silent,
) -> DbGcReport:
    """Plan (with ``execute``: apply) removing unneeded ``continuum_workflow_versions`` rows.

    Kept: current versions of ``registry``, versions of open runs, versions a live
    worker advertises. With ``execute`` the deletes run in one transaction (a savepoint
    if the caller has one open); the caller commits a non-autocommit connection.
    """
    current = _current(registry)
    pinned = pinned_pairs(conn)
    live = live_version_keys(live_workers(conn, live_within=live_within))
    report = DbGcReport(executed=execute)
    for row in conn.execute(query("registered_versions")).fetchall():
        pair = (str(row[0]), str(row[1]))
        reason: KeepReason | None = (
            "current"
            if pair in current
            else "pinned"
            if pair in pinned
            else "live_worker"
            if version_key(*pair) in live
            else None
        )
        ref = VersionRef(workflow=pair[0], version_hash=pair[1], reason=reason)
        (report.kept if reason else report.removable).append(ref)
    if execute and report.removable:
        with conn.transaction():
            for done, ref in enumerate(report.removable, 1):
                progress("removing versions", done, len(report.removable))
                gone = conn.execute(
                    query("delete_workflow_version"),
                    {"workflow": ref.workflow, "version_hash": ref.version_hash},
                ).fetchone()
                if gone is not None:
                    report.deleted.append(ref)
    return report


def gc_project_versions(
    conn: psycopg.Connection[Any],
    registry: VersionRegistry,
    *,
    project_root: Path | None,
    execute: bool = False,
    live_within: timedelta = LIVE_WITHIN,
    progress: Progress = silent,
) -> GcReport:
    """``continuum gc-versions``: the table rows, then the manifest entries and frozen files.

    Files are kept for every pinned, current or live-worker hash (the codegen gc never
    removes a current version). ``project_root=None`` touches the database only.
    """
    database = gc_versions_db(conn, registry, execute, live_within=live_within, progress=progress)
    pinned = pinned_versions(conn)
    files: FileGcReport | None = None
    if project_root is not None:
        live = live_version_keys(live_workers(conn, live_within=live_within))
        keep = pinned | {h for _, h in _current(registry)} | {k.rsplit("@", 1)[1] for k in live}
        result = gc_version_files(project_root, keep, execute=execute)
        files = FileGcReport(
            executed=result.executed,
            removable=[VersionRef(workflow=w, version_hash=h) for w, h in result.removable],
            kept_pinned=[
                VersionRef(workflow=w, version_hash=h, reason="pinned")
                for w, h in result.kept_pinned
            ],
            deleted_files=[relative_posix(p, project_root.resolve()) for p in result.deleted_files],
        )
    return GcReport(executed=execute, pinned=sorted(pinned), database=database, files=files)
