"""Pay out to many payees with idempotency keys that survive retries and replays."""

from __future__ import annotations

from pydantic import BaseModel

import continuum


class Payee(BaseModel):
    account: str
    amount: int


class Payout(BaseModel):
    batch: str
    payees: list[Payee]


@continuum.activity(max_attempts=5)
def send_payment(account: str, amount: int) -> str:
    return f"tx-{account}"


@continuum.workflow
def payout(batch: Payout) -> dict[str, str]:
    batch_key = continuum.uuid4()
    receipts: dict[str, str] = {}
    for n, payee in enumerate(batch.payees):
        receipts[payee.account] = continuum.execute(
            send_payment, payee.account, payee.amount, idempotency_key=f"{batch_key}:{n}"
        )
    return receipts
