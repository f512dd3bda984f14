"""Modules for codegen come from the source model in :mod:`continuum_lint.source`.

Codegen has no parser or resolver of its own: the scanner and ``continuum build`` read
the same parsed modules, discovery and closures. This module re-exports what codegen
uses and turns the model's errors into codegen's (:func:`translated`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from continuum_codegen.errors import ModuleNotFound, SourceError
from continuum_lint.source import errors as model_errors
from continuum_lint.source.modules import ImportBinding, ModuleCache, ModuleSource, search_roots

__all__ = ["ImportBinding", "ModuleCache", "ModuleSource", "search_roots", "translated"]


@contextmanager
def translated() -> Iterator[None]:
    """Re-raise the source model's errors as :class:`ModuleNotFound` / :class:`SourceError`."""
    try:
        yield
    except model_errors.ModuleNotFound as exc:
        raise ModuleNotFound(str(exc)) from None
    except model_errors.SourceError as exc:
        raise SourceError(str(exc)) from None
