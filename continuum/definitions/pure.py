"""``@continuum.pure``: a helper whose body the scanner checks and workflows may call."""

from __future__ import annotations

import contextlib
from typing import TypeVar

F = TypeVar("F")

PURE_MARKER = "__continuum_pure__"


def pure(fn: F) -> F:
    """Mark ``fn`` as a deterministic helper.

    The function is returned unchanged; the determinism scanner checks its body with
    the same rules as workflow code and then trusts calls to it from workflows.
    """
    # Builtins and some C callables refuse attributes; they stay unmarked.
    with contextlib.suppress(AttributeError, TypeError):
        setattr(fn, PURE_MARKER, True)
    return fn


def is_pure(fn: object) -> bool:
    """Whether ``fn`` was marked with :func:`pure`."""
    return bool(getattr(fn, PURE_MARKER, False))
