"""Deliver a signed webhook with exponential backoff between attempts, for up to a day."""

from __future__ import annotations

import hashlib
import hmac
import json
import math

from pydantic import BaseModel

import continuum
from continuum import hours, seconds

MAX_TRIES = 12


class Webhook(BaseModel):
    endpoint: str
    secret: str
    event: dict[str, object]


@continuum.activity(timeout=seconds(15))
def post(endpoint: str, body: str, signature: str) -> int:
    return 200


@continuum.pure
def sign(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()


@continuum.pure
def backoff(attempt: int) -> float:
    return min(math.pow(2, attempt), hours(2).total_seconds())


@continuum.workflow
def deliver_webhook(hook: Webhook) -> int:
    body = json.dumps(hook.event, sort_keys=True, separators=(",", ":"))
    signature = sign(hook.secret, body)
    status = 0
    for attempt in range(MAX_TRIES):
        try:
            status = continuum.execute(post, hook.endpoint, body, signature)
        except continuum.ActivityFailed:
            status = 0
        if 200 <= status < 300:
            return status
        continuum.sleep(seconds(backoff(attempt)))
    return status
