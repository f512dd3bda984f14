"""An expense needs a manager's approval; no answer within two days escalates it."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel

import continuum
from continuum import days, hours


class Decision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class Expense(BaseModel):
    expense_id: str
    employee: str
    manager: str
    director: str
    amount_cents: int


class Review(BaseModel):
    reviewer: str
    decision: Decision
    comment: str = ""


@continuum.activity
def request_review(reviewer: str, expense_id: str) -> None:
    return None


@continuum.activity(max_attempts=3)
def pay_out(employee: str, amount_cents: int) -> str:
    return f"payout-{employee}"


@continuum.activity
def notify(employee: str, text: str) -> None:
    return None


def ask(reviewer: str, expense: Expense, wait: timedelta) -> Review | None:
    """Ask one reviewer and wait for their review (``None`` when they stay silent)."""
    continuum.execute(request_review, reviewer, expense.expense_id)
    try:
        return continuum.wait_signal("review", timeout=wait, type=Review)
    except continuum.SignalTimeout:
        return None


@continuum.workflow
def expense_approval(expense: Expense) -> str:
    review = ask(expense.manager, expense, days(2))
    if review is None:
        continuum.execute(notify, expense.employee, "escalated to the director")
        review = ask(expense.director, expense, hours(48))
    if review is None:
        continuum.execute(notify, expense.employee, "no decision; resubmit")
        return "expired"
    if review.decision is Decision.REJECTED:
        continuum.execute(notify, expense.employee, f"rejected: {review.comment}")
        return "rejected"
    payout = continuum.execute(pay_out, expense.employee, expense.amount_cents)
    continuum.execute(notify, expense.employee, f"paid ({payout})")
    return "paid"
