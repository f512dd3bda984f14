"""A long export that reports its progress as an event clients can read."""

from __future__ import annotations

from pydantic import BaseModel

import continuum


class Export(BaseModel):
    tenant: str
    tables: list[str]


@continuum.activity(max_attempts=3)
def export_table(tenant: str, table: str) -> int:
    return 1000


@continuum.activity
def write_manifest(tenant: str, counts: dict[str, int]) -> str:
    return f"manifest-{tenant}"


@continuum.workflow
def export_tenant(job: Export) -> str:
    counts: dict[str, int] = {}
    for done, table in enumerate(job.tables, start=1):
        counts[table] = continuum.execute(export_table, job.tenant, table)
        continuum.set_event("progress", {"done": done, "total": len(job.tables)})
    manifest = continuum.execute(write_manifest, job.tenant, counts)
    continuum.set_event("progress", {"done": len(job.tables), "total": len(job.tables)})
    return manifest
