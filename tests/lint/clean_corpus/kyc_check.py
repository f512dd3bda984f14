"""Know-your-customer checks: validate the form, then verify documents in batches."""

from __future__ import annotations

import itertools
import re

from pydantic import BaseModel

import continuum

POSTCODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{2,9}$")


class Applicant(BaseModel):
    applicant_id: str
    name: str
    postcode: str
    documents: list[str]


@continuum.activity(max_attempts=3)
def verify_documents(applicant_id: str, documents: list[str]) -> list[bool]:
    return [True for _ in documents]


@continuum.activity
def flag_for_review(applicant_id: str, reasons: list[str]) -> None:
    return None


@continuum.pure
def form_problems(applicant: Applicant) -> list[str]:
    problems = []
    if not applicant.name.strip():
        problems.append("name is empty")
    if not POSTCODE.match(applicant.postcode.upper()):
        problems.append(f"postcode {applicant.postcode!r} looks wrong")
    if not applicant.documents:
        problems.append("no documents")
    return problems


@continuum.workflow
def kyc(applicant: Applicant) -> str:
    problems = form_problems(applicant)
    docs = iter(applicant.documents)
    while batch := list(itertools.islice(docs, 3)):
        results = continuum.execute(verify_documents, applicant.applicant_id, batch)
        checked = zip(batch, results, strict=True)
        problems += [f"{doc} not verified" for doc, ok in checked if not ok]
    if problems:
        continuum.execute(flag_for_review, applicant.applicant_id, problems)
        return "review"
    return "verified"
