"""Build a customer's monthly statement on the first day of the month."""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel

import continuum


class Account(BaseModel):
    account_id: str
    email: str


@continuum.activity
def transactions_between(account_id: str, start: str, end: str) -> list[int]:
    return []


@continuum.activity
def send_statement(email: str, period: str, total: int) -> None:
    return None


@continuum.pure
def previous_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1)
    start = (end - timedelta(days=1)).replace(day=1)
    return start, end


@continuum.workflow
def monthly_statement(account: Account) -> int:
    start, end = previous_month(continuum.today())
    amounts = continuum.execute(
        transactions_between, account.account_id, start.isoformat(), end.isoformat()
    )
    total = sum(amounts)
    continuum.execute(send_statement, account.email, f"{start:%Y-%m}", total)
    return total
