"""A subscription: a free trial, then one charge per billing period until cancelled.

After a year of cycles the run continues as new, so its history stays short.
"""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import days, seconds

CYCLES_PER_RUN = 12


class Subscription(BaseModel):
    customer: str
    plan: str
    price_cents: int
    period_days: int = 30
    trial_days: int = 14
    cycle: int = 0
    trial_done: bool = False


@continuum.activity(max_attempts=5, timeout=seconds(30))
def charge(customer: str, amount: int, cycle: int) -> str:
    return f"invoice-{customer}-{cycle}"


@continuum.activity
def send_email(customer: str, template: str) -> None:
    return None


@continuum.workflow(version=1)
def subscription(sub: Subscription) -> str:
    if not sub.trial_done:
        continuum.execute(send_email, sub.customer, "welcome")
        try:
            continuum.wait_signal("cancel", timeout=days(sub.trial_days))
            continuum.execute(send_email, sub.customer, "cancelled-during-trial")
            return "cancelled in trial"
        except continuum.SignalTimeout:
            pass
    cycle = sub.cycle
    for _ in range(CYCLES_PER_RUN):
        cycle += 1
        try:
            key = f"{sub.customer}:{cycle}"
            invoice = continuum.execute(
                charge, sub.customer, sub.price_cents, cycle, idempotency_key=key
            )
        except continuum.ActivityFailed:
            continuum.execute(send_email, sub.customer, "payment-failed")
            return f"suspended after {cycle - 1} cycles"
        continuum.logger.info("billed %s", invoice)
        try:
            continuum.wait_signal("cancel", timeout=days(sub.period_days))
            continuum.execute(send_email, sub.customer, "goodbye")
            return f"cancelled after {cycle} cycles"
        except continuum.SignalTimeout:
            continue
    next_run = sub.model_copy(update={"cycle": cycle, "trial_done": True})
    continuum.continue_as_new(next_run)
