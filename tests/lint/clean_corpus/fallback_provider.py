"""Send an SMS through the primary provider; fall back to the secondary one."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import seconds


class Sms(BaseModel):
    phone: str
    body: str


@continuum.activity(max_attempts=3, timeout=seconds(5))
def send_primary(phone: str, body: str) -> str:
    return "primary-id"


@continuum.activity(max_attempts=5, timeout=seconds(10))
def send_secondary(phone: str, body: str) -> str:
    return "secondary-id"


@continuum.workflow
def send_sms(sms: Sms) -> str:
    key = f"sms:{continuum.info().run_id}"
    try:
        return continuum.execute(send_primary, sms.phone, sms.body, idempotency_key=key)
    except continuum.ActivityFailed as failure:
        continuum.logger.warning("primary provider failed: %s", failure)
        continuum.sleep(seconds(2))
        return continuum.execute(
            send_secondary, sms.phone, sms.body, idempotency_key=key + ":fallback"
        )
