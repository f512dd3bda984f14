"""Named SQL of the worker runtime (``continuum/runtime/sql/runtime.sql``)."""

from __future__ import annotations

from typing import LiteralString

from continuum.db.sqlfiles import load_queries


def query(name: str) -> LiteralString:
    """One named query of the runtime's SQL file."""
    return load_queries("continuum.runtime.sql", "runtime.sql")[name]
