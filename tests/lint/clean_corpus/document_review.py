"""A document under review: editors propose changes as updates, validated in the workflow."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import days


class Document(BaseModel):
    doc_id: str
    title: str
    max_revisions: int = 20


@continuum.activity
def store_revision(doc_id: str, number: int, text: str) -> str:
    return f"{doc_id}@{number}"


@continuum.activity
def publish(doc_id: str, revision: str) -> str:
    return f"https://docs.example/{doc_id}"


@continuum.workflow
def review(doc: Document) -> str:
    revision = ""
    for number in range(1, doc.max_revisions + 1):
        try:
            update = continuum.wait_update("propose", timeout=days(7))
        except continuum.SignalTimeout:
            break
        text = update.payload
        if not isinstance(text, str) or not text.strip():
            continuum.reject(update, "a revision needs some text")
            continue
        revision = continuum.execute(store_revision, doc.doc_id, number, text)
        continuum.reply(update, revision)
        continuum.set_event("latest", revision)
        if text.startswith("FINAL"):
            break
    if not revision:
        return "abandoned"
    return continuum.execute(publish, doc.doc_id, revision)
