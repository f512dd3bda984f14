"""Move money between two accounts; a failed deposit refunds the withdrawal (saga)."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import seconds

LEDGER: dict[str, int] = {}


class Transfer(BaseModel):
    transfer_id: str
    source: str
    target: str
    amount: int


class TransferResult(BaseModel):
    transfer_id: str
    withdrawal: str
    deposit: str


@continuum.activity(max_attempts=3, timeout=seconds(10))
def withdraw(account: str, amount: int, reference: str) -> str:
    LEDGER[account] = LEDGER.get(account, 0) - amount
    return f"wd-{reference}"


@continuum.activity(max_attempts=3, timeout=seconds(10))
def deposit(account: str, amount: int, reference: str) -> str:
    LEDGER[account] = LEDGER.get(account, 0) + amount
    return f"dp-{reference}"


@continuum.activity(max_attempts=5)
def refund(account: str, amount: int, reference: str) -> str:
    LEDGER[account] = LEDGER.get(account, 0) + amount
    return f"rf-{reference}"


@continuum.workflow(version=1)
def transfer_money(transfer: Transfer) -> TransferResult:
    """Withdraw, then deposit; undo the withdrawal if the deposit fails for good."""
    ref = transfer.transfer_id
    withdrawn = continuum.execute(
        withdraw,
        transfer.source,
        transfer.amount,
        ref,
        idempotency_key=f"withdraw:{ref}",
        compensate=continuum.compensation(refund, transfer.source, transfer.amount, ref),
    )
    try:
        deposited = continuum.execute(
            deposit,
            transfer.target,
            transfer.amount,
            ref,
            idempotency_key=f"deposit:{ref}",
            compensate=None,
        )
    except continuum.ActivityFailed:
        continuum.compensate_all()
        raise
    return TransferResult(
        transfer_id=ref, withdrawal=continuum.unwrap(withdrawn), deposit=deposited
    )
