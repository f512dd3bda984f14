"""The build settings of a project: ``workflows`` and ``generated`` in ``[tool.continuum]``.

Read through :mod:`continuum_pyproject` (the reader lint, the CLI and the version
registry share); its errors become :class:`~continuum_codegen.errors.ConfigError` with the
same one-line message.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from continuum_codegen.errors import ConfigError
from continuum_pyproject import PYPROJECT, PyprojectError, load


@dataclass(frozen=True)
class CodegenConfig:
    """The codegen settings of one project.

    ``workflows`` are dotted module names; ``generated`` is the absolute directory the
    frozen modules and ``manifest.json`` go to (configured relative to the pyproject).
    """

    project_root: Path
    workflows: tuple[str, ...]
    generated: Path


def load_config(project_root: Path) -> CodegenConfig:
    """Read and validate ``[tool.continuum]``; every problem is a one-line :class:`ConfigError`."""
    pyproject = project_root / PYPROJECT
    try:
        table = load(pyproject)
        workflows = table.strings("workflows", required=True)
        generated = table.generated()
    except PyprojectError as exc:
        hint = "" if pyproject.exists() else " (pass --project to point at your project)"
        raise ConfigError(f"{exc}{hint}") from None
    return CodegenConfig(
        project_root=project_root.resolve(), workflows=workflows, generated=generated
    )
