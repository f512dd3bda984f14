"""Errors raised by the codegen step.

Tree (under :class:`continuum.errors.ContinuumError`, the one root)::

    CodegenError (code "codegen")
    ├── ConfigError (code "codegen.config")      missing/invalid [tool.continuum]
    ├── ModuleNotFound (code "codegen.module")   a workflow module cannot be located
    └── SourceError (code "codegen.source")      a workflow module does not parse
"""

from __future__ import annotations

from continuum.errors import ContinuumError


class CodegenError(ContinuumError):
    """Root of every error ``continuum build`` reports; the message is one line."""

    code = "codegen"


class ConfigError(CodegenError):
    """``[tool.continuum]`` is missing or malformed in ``pyproject.toml``."""

    code = "codegen.config"


class ModuleNotFound(CodegenError):
    """A module listed in ``[tool.continuum] workflows`` has no Python source file."""

    code = "codegen.module"


class SourceError(CodegenError):
    """A workflow module (or a module it imports ``@pure`` helpers from) fails to parse."""

    code = "codegen.source"
