"""Delete a user's data from every service: one child run per service, in parallel."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import minutes

SERVICES = ("billing", "crm", "analytics", "storage", "search")


class Erasure(BaseModel):
    user_id: str
    service: str


@continuum.activity(max_attempts=10, timeout=minutes(2))
def erase(service: str, user_id: str) -> int:
    return 0


@continuum.activity
def write_certificate(user_id: str, removed: dict[str, int]) -> str:
    return f"cert-{user_id}"


@continuum.workflow
def erase_from_service(req: Erasure) -> int:
    return continuum.execute(erase, req.service, req.user_id)


@continuum.workflow
def delete_account(user_id: str) -> str:
    refs = {
        service: continuum.start_child(
            erase_from_service,
            Erasure(user_id=user_id, service=service),
            id=f"gdpr-{user_id}-{service}",
        )
        for service in SERVICES
    }
    removed = {service: continuum.wait_child(ref) for service, ref in refs.items()}
    return continuum.execute(write_certificate, user_id, removed)
