"""Errors of the source model (codegen turns them into its own ``CodegenError`` family)."""

from __future__ import annotations


class ModelError(Exception):
    """A module could not be located or parsed for the source model."""


class ModuleNotFound(ModelError):
    """A dotted module name has no Python source file on the search roots."""


class SourceError(ModelError):
    """A module's source cannot be read or parsed, or breaks a build-time rule."""
