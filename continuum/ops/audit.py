"""``continuum audit``: what versions exist, which code is dead, which runs are stranded.

The report answers four operator questions (seed v0.5, v0.6.0):

- **Loaded versions**: every version in the build manifest, in
  ``continuum_workflow_versions`` or advertised by a live worker; whether this process
  can import it, how many open runs it has and how many live workers advertise it.
- **Stale ``patched()`` sites**: a patch id in the *current* version of a workflow whose
  old branch no open run can take any more — every open run either journaled the
  ``patched`` marker for that id, or started on a version that already had the site.
  The ``else`` branch is then dead code, safe to remove (verdict ``safe_to_remove``).
- **Unloadable runs**: open runs on a version that no live worker advertises and this
  manifest cannot load. Nothing will resume them until that code is deployed again.
- **Expired leased activity tasks**: ``leased`` tasks whose lease ran out — the
  activity sweep should have rescued them; a non-empty list means no sweeper is alive.

``strict_problems`` lists what ``--strict`` fails on: safe-to-remove sites, unloadable
runs and expired leased tasks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel, Field

from continuum.definitions.versions import VersionRegistry
from continuum.ops.manifest import ProjectManifest, load_project_manifest
from continuum.ops.queries import query
from continuum.ops.workers import (
    LIVE_WITHIN,
    LiveWorker,
    live_version_keys,
    live_workers,
    version_key,
)

SAMPLE = 10
"""How many run ids a report lists per group (counts are always complete)."""


class VersionStatus(BaseModel):
    """One workflow version, as the manifest and the database know it."""

    workflow: str
    version_hash: str
    entrypoint: str | None
    current: bool
    in_manifest: bool
    loadable: bool
    registered_at: datetime | None
    open_runs: int
    live_workers: int


class PatchSiteVerdict(BaseModel):
    """A ``patched()`` call in a workflow's current version, and whether its old branch lives."""

    workflow: str
    version_hash: str
    patch_id: str
    function: str
    line: int | None
    verdict: Literal["safe_to_remove", "in_use"]
    predating_runs: int
    sample_run_ids: list[str] = Field(default_factory=list)


class UnloadableRuns(BaseModel):
    """Open runs of one version that nothing alive can resume."""

    workflow: str
    version_hash: str
    runs: int
    sample_run_ids: list[str] = Field(default_factory=list)


class ExpiredTask(BaseModel):
    """A ``leased`` activity task whose lease has run out."""

    id: int
    run_id: str
    activity: str
    attempt: int
    lease_owner: str | None
    lease_expires_at: datetime
    expired_for_s: float


class AuditReport(BaseModel):
    """Everything ``continuum audit`` found; ``to_json()`` is its ``--format json`` output."""

    checked_at: datetime
    manifest: str | None
    versions: list[VersionStatus]
    live_workers: list[LiveWorker]
    patch_sites: list[PatchSiteVerdict]
    unloadable_runs: list[UnloadableRuns]
    expired_leased_tasks: list[ExpiredTask]
    expired_leased_tasks_total: int

    @property
    def strict_problems(self) -> list[str]:
        """One line per finding that makes ``continuum audit --strict`` fail."""
        problems = [
            f"patched({site.patch_id!r}) in {site.function} ({site.workflow}@"
            f"{site.version_hash}) is safe to remove: no open run predates it"
            for site in self.patch_sites
            if site.verdict == "safe_to_remove"
        ]
        problems += [
            f"{group.runs} open run(s) of {group.workflow}@{group.version_hash} are on a "
            "version no live worker or this manifest can load"
            for group in self.unloadable_runs
        ]
        if self.expired_leased_tasks_total:
            problems.append(
                f"{self.expired_leased_tasks_total} leased activity task(s) have expired leases"
            )
        return problems

    @property
    def ok(self) -> bool:
        """Whether ``--strict`` would pass."""
        return not self.strict_problems

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: every section plus ``ok`` and ``strict_problems``."""
        data = self.model_dump(mode="json")
        data["ok"] = self.ok
        data["strict_problems"] = self.strict_problems
        return data


def audit(
    conn: psycopg.Connection[Any],
    registry: VersionRegistry,
    *,
    project_root: Path | None,
    live_within: timedelta = LIVE_WITHIN,
    task_limit: int = 100,
) -> AuditReport:
    """Audit versions, patch sites, stranded runs and expired task leases. Read-only.

    ``registry`` says what this process can load; ``project_root`` locates the manifest
    for patch-site details (``None``: only the patch ids the registry carries).
    """
    project = load_project_manifest(project_root)
    with conn.cursor(row_factory=dict_row) as cur:
        checked_at = cur.execute(query("database_now")).fetchone()
        registered = cur.execute(query("registered_versions")).fetchall()
        open_groups = cur.execute(query("open_runs_by_version"), {"sample": SAMPLE}).fetchall()
        tasks = cur.execute(query("expired_leased_tasks"), {"limit": task_limit}).fetchall()
        total = cur.execute(query("count_expired_leased_tasks")).fetchone()
    workers = live_workers(conn, live_within=live_within)
    live_keys = live_version_keys(workers)

    open_counts = {(g["workflow"], g["version_hash"]): g for g in open_groups}
    unloadable = [
        UnloadableRuns(
            workflow=g["workflow"],
            version_hash=g["version_hash"],
            runs=g["runs"],
            sample_run_ids=list(g["sample_ids"] or []),
        )
        for (name, digest), g in open_counts.items()
        if version_key(name, digest) not in live_keys and registry.resolve(name, digest) is None
    ]
    assert checked_at is not None and total is not None
    return AuditReport(
        checked_at=checked_at["now"],
        manifest=str(project.path) if project.path is not None else None,
        versions=_versions(registry, registered, open_counts, workers),
        live_workers=workers,
        patch_sites=_patch_sites(conn, registry, project),
        unloadable_runs=unloadable,
        expired_leased_tasks=[ExpiredTask.model_validate(row) for row in tasks],
        expired_leased_tasks_total=total["count"],
    )


def _versions(
    registry: VersionRegistry,
    registered: list[dict[str, Any]],
    open_counts: dict[tuple[str, str], dict[str, Any]],
    workers: list[LiveWorker],
) -> list[VersionStatus]:
    manifest = {(v.workflow, v.version_hash): v for v in registry.versions()}
    in_db = {(r["workflow"], r["version_hash"]): r for r in registered}
    out: list[VersionStatus] = []
    advertised = {tuple(key.rsplit("@", 1)) for w in workers for key in w.versions}
    for name, digest in sorted(manifest.keys() | in_db.keys() | advertised):
        info = manifest.get((name, digest))
        row = in_db.get((name, digest))
        key = version_key(name, digest)
        group = open_counts.get((name, digest))
        out.append(
            VersionStatus(
                workflow=name,
                version_hash=digest,
                entrypoint=info.entrypoint if info else row["entrypoint"] if row else None,
                current=bool(info and info.current),
                in_manifest=info is not None,
                loadable=registry.resolve(name, digest) is not None,
                registered_at=row["registered_at"] if row else None,
                open_runs=group["runs"] if group else 0,
                live_workers=sum(1 for w in workers if key in w.versions),
            )
        )
    return out


def _patch_sites(
    conn: psycopg.Connection[Any], registry: VersionRegistry, project: ProjectManifest
) -> list[PatchSiteVerdict]:
    verdicts: list[PatchSiteVerdict] = []
    for site in project.current_patch_sites(registry):
        with conn.cursor(row_factory=dict_row) as cur:
            row = cur.execute(
                query("runs_predating_patch"),
                {
                    "workflow": site.workflow,
                    "patch_id": site.patch_id,
                    "hashes_with_site": sorted(site.hashes_with_site),
                    "sample": SAMPLE,
                },
            ).fetchone()
        assert row is not None
        verdicts.append(
            PatchSiteVerdict(
                workflow=site.workflow,
                version_hash=site.version_hash,
                patch_id=site.patch_id,
                function=site.function,
                line=site.line,
                verdict="in_use" if row["runs"] else "safe_to_remove",
                predating_runs=row["runs"],
                sample_run_ids=list(row["sample_ids"]),
            )
        )
    return verdicts
