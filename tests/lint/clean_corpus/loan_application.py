"""Score a loan application from three checks run in parallel."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import seconds


class Application(BaseModel):
    applicant_id: str
    amount: int
    income: int


@continuum.activity(max_attempts=3, timeout=seconds(30))
def credit_score(applicant_id: str) -> int:
    return 700


@continuum.activity(max_attempts=3, timeout=seconds(30))
def fraud_check(applicant_id: str) -> bool:
    return False


@continuum.activity(max_attempts=3, timeout=seconds(30))
def employment_verified(applicant_id: str) -> bool:
    return True


@continuum.activity
def record_decision(applicant_id: str, decision: str) -> None:
    return None


@continuum.pure
def decide(score: int, fraud: bool, employed: bool, app: Application) -> str:
    if fraud:
        return "declined"
    if score >= 720 and employed:
        return "approved"
    if score >= 650 and employed and app.amount <= app.income // 2:
        return "approved"
    return "manual-review"


@continuum.workflow
def loan_decision(app: Application) -> str:
    handles = (
        continuum.start_activity(credit_score, app.applicant_id),
        continuum.start_activity(fraud_check, app.applicant_id),
        continuum.start_activity(employment_verified, app.applicant_id),
    )
    score, fraud, employed = continuum.gather(*handles)
    decision = decide(score, fraud, employed, app)
    if decision == "manual-review":
        decision = continuum.wait_signal("underwriter_decision")
    continuum.execute(record_decision, app.applicant_id, decision)
    return decision
