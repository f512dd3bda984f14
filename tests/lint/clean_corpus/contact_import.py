"""Import contacts from a CSV export: stable ids, de-duplicated, upserted in pages."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

import continuum

PAGE = 200
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://contacts.example")


class Contact(BaseModel):
    email: str
    name: str


class ImportJob(BaseModel):
    account: str
    export_url: str


@continuum.activity
def read_export(url: str) -> list[Contact]:
    return []


@continuum.activity(max_attempts=3)
def upsert(account: str, contacts: list[dict[str, str]]) -> int:
    return len(contacts)


@continuum.pure
def normalised(contacts: list[Contact]) -> list[dict[str, str]]:
    by_email = dict.fromkeys(c.email.strip().lower() for c in contacts)
    names = {c.email.strip().lower(): c.name for c in contacts}
    return [
        {"id": str(uuid.uuid5(NAMESPACE, email)), "email": email, "name": names[email]}
        for email in by_email
    ]


@continuum.workflow
def import_contacts(job: ImportJob) -> int:
    rows = normalised(continuum.execute(read_export, job.export_url))
    written = 0
    for start in range(0, len(rows), PAGE):
        written += continuum.execute(upsert, job.account, rows[start : start + PAGE])
        continuum.set_event("imported", written)
    if not all(isinstance(r["id"], str) for r in rows):
        raise ValueError(f"bad ids in import for {job.account}")
    return written
