"""Reading ``[tool.continuum]`` from a project's ``pyproject.toml``."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from continuum_codegen.errors import ConfigError


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
    pyproject = project_root / "pyproject.toml"
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{pyproject}: not found (pass --project to point at your project)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{pyproject}: invalid TOML: {exc}") from None
    section = data.get("tool", {}).get("continuum")
    if not isinstance(section, dict):
        raise ConfigError(
            f"{pyproject}: no [tool.continuum] table; add "
            '`workflows = ["myapp.flows"]` and `generated = "myapp/_continuum"`'
        )
    workflows = section.get("workflows")
    if (
        not isinstance(workflows, list)
        or not workflows
        or not all(isinstance(w, str) and w for w in workflows)
    ):
        raise ConfigError(
            f"{pyproject}: [tool.continuum] workflows must be a non-empty list of module names"
        )
    generated = section.get("generated")
    if not isinstance(generated, str) or not generated.strip():
        raise ConfigError(
            f"{pyproject}: [tool.continuum] generated must be a directory path, "
            'e.g. "myapp/_continuum"'
        )
    target = (project_root / generated).resolve()
    if not all(part.isidentifier() for part in Path(generated).parts if part not in {".", ".."}):
        raise ConfigError(
            f"{pyproject}: [tool.continuum] generated {generated!r} must be a package path "
            "(every directory name a Python identifier)"
        )
    return CodegenConfig(
        project_root=project_root.resolve(), workflows=tuple(workflows), generated=target
    )
