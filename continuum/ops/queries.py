"""The named queries of ``continuum/ops/sql/ops.sql``."""

from __future__ import annotations

from typing import LiteralString

from continuum.db.sqlfiles import load_queries

OPEN_STATES = ("running", "suspended")
"""Run states that still need their version's code."""


def query(name: str) -> LiteralString:
    """One named query of ``ops.sql``."""
    return load_queries("continuum.ops.sql", "ops.sql")[name]
