"""Fencing: the journal refuses a write whose lease is no longer current.

Every write that depends on owning a run or a task carries the lease's fencing token in
its ``WHERE`` clause; when the token changed (the lease expired and another worker took
over, or the run was cancelled) the journal raises or returns :class:`Fenced`. It is
internal: the runtime catches it and drops the activation or attempt (the new owner
carries on), so it never reaches user code and is not part of :mod:`continuum.errors`.
"""

from __future__ import annotations

from continuum.errors import ContinuumError


class Fenced(ContinuumError):
    """A write was rejected because its lease (fencing token) is no longer current."""

    code = "fenced"
