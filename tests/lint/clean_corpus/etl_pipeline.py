"""Extract, transform and load as three child workflows run one after another."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import minutes


class Window(BaseModel):
    source: str
    day: str


class Staged(BaseModel):
    location: str
    rows: int


@continuum.activity(max_attempts=3, timeout=minutes(20))
def dump_source(source: str, day: str) -> Staged:
    return Staged(location=f"/stage/{source}/{day}", rows=10)


@continuum.activity(max_attempts=2, timeout=minutes(30))
def clean_rows(location: str) -> Staged:
    return Staged(location=location + "/clean", rows=9)


@continuum.activity(max_attempts=3, timeout=minutes(20))
def load_warehouse(location: str) -> int:
    return 9


@continuum.workflow
def extract(window: Window) -> Staged:
    return continuum.execute(dump_source, window.source, window.day)


@continuum.workflow
def transform(staged: Staged) -> Staged:
    return continuum.execute(clean_rows, staged.location)


@continuum.workflow
def load(staged: Staged) -> int:
    return continuum.execute(load_warehouse, staged.location)


@continuum.workflow
def nightly_etl(window: Window) -> int:
    prefix = f"etl-{window.source}-{window.day}"
    staged = continuum.child(extract, window, id=f"{prefix}-extract")
    cleaned = continuum.child(transform, staged, id=f"{prefix}-transform")
    return continuum.child(load, cleaned, id=f"{prefix}-load")
