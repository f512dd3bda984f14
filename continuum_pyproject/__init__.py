"""``[tool.continuum]`` in ``pyproject.toml``: the one reader the scanner, the build, the CLI
and the version registry share.

A leaf: it imports only the standard library, so ``continuum_lint`` stays importable
without the runtime. Every problem is a :class:`PyprojectError` whose message names the
file and, when one key is at fault, the key::

    /app/pyproject.toml: [tool.continuum] workflows must be a non-empty list of module names

Callers present it in their own error family (``continuum.ConfigurationError``,
``continuum_codegen.ConfigError``, a one-line CLI error) with the message unchanged.

Keys::

    [tool.continuum]
    workflows = ["myapp.flows"]        # modules whose workflows ``continuum build`` versions
    generated = "myapp/_continuum"     # package the frozen modules and manifest.json go to
    trusted_modules = ["myapp.money"]  # scanner: helper modules workflows may call
    untrusted_call_severity = "warn"   # scanner: or "error"
    denylist = [{ name = "myapp.clock.now", code = "CNT101", hint = "use continuum.now()" }]
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PYPROJECT = "pyproject.toml"


class PyprojectError(ValueError):
    """``[tool.continuum]``, or the ``pyproject.toml`` holding it, cannot be used.

    ``path`` is the file (``None`` for a table given without one), ``key`` the key at
    fault (``None`` when the file itself is).
    """

    def __init__(self, message: str, *, path: Path | None = None, key: str | None = None):
        super().__init__(message)
        self.path = path
        self.key = key


def _where(path: Path | None) -> str:
    return f"{path}: " if path is not None else ""


@dataclass(frozen=True)
class ContinuumTable:
    """The ``[tool.continuum]`` table of one ``pyproject.toml`` (``path``)."""

    path: Path | None
    values: Mapping[str, object]

    @property
    def root(self) -> Path:
        """The project directory (the one holding the ``pyproject.toml``)."""
        if self.path is None:
            raise PyprojectError("[tool.continuum] was given without its pyproject.toml")
        return self.path.parent

    def __contains__(self, key: object) -> bool:
        return key in self.values

    def problem(self, key: str, text: str) -> PyprojectError:
        """The error for ``key``: ``<file>: [tool.continuum] <key> <text>``."""
        return PyprojectError(
            f"{_where(self.path)}[tool.continuum] {key} {text}", path=self.path, key=key
        )

    def strings(
        self, key: str, *, what: str = "module names", required: bool = False
    ) -> tuple[str, ...]:
        """A list of non-empty strings (``()`` when absent and not ``required``)."""
        value = self.values.get(key)
        if value is None and not required:
            return ()
        if (
            not isinstance(value, list)
            or (required and not value)
            or not all(isinstance(item, str) and item for item in value)
        ):
            qualifier = "a non-empty list" if required else "a list"
            raise self.problem(key, f"must be {qualifier} of {what}")
        return tuple(value)

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str:
        """One of ``choices`` (``default`` when absent)."""
        value = self.values.get(key, default)
        if value not in choices:
            listed = " or ".join(f'"{c}"' for c in choices)
            raise self.problem(key, f"must be {listed}, got {value!r}")
        return str(value)

    def tables(self, key: str) -> tuple[Mapping[str, object], ...]:
        """An array of inline tables (``()`` when absent)."""
        value = self.values.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise self.problem(key, "must be a list of tables ({ name = ..., ... })")
        return tuple(value)

    def generated(self) -> Path:
        """The absolute directory of the ``generated`` package (required)."""
        value = self.values.get("generated")
        if not isinstance(value, str) or not value.strip():
            raise self.problem("generated", 'must be a directory path, e.g. "myapp/_continuum"')
        if not all(part.isidentifier() for part in Path(value).parts if part not in {".", ".."}):
            raise self.problem(
                "generated",
                f"{value!r} must be a package path (every directory name a Python identifier)",
            )
        return (self.root / value).resolve()


def read(pyproject: Path) -> ContinuumTable | None:
    """The ``[tool.continuum]`` table of ``pyproject`` (``None`` when it has none).

    A file that is missing, unreadable or not valid TOML, or a ``tool.continuum`` that is
    not a table, is a :class:`PyprojectError`.
    """
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PyprojectError(f"{pyproject}: not found", path=pyproject) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PyprojectError(f"{pyproject}: cannot be read: {exc}", path=pyproject) from None
    except tomllib.TOMLDecodeError as exc:
        raise PyprojectError(f"{pyproject}: invalid TOML: {exc}", path=pyproject) from None
    tool = data.get("tool", {})
    section = tool.get("continuum") if isinstance(tool, dict) else None
    if section is None:
        return None
    if not isinstance(section, dict):
        raise PyprojectError(
            f"{pyproject}: [tool.continuum] must be a table", path=pyproject, key="continuum"
        )
    return ContinuumTable(pyproject, section)


def load(pyproject: Path) -> ContinuumTable:
    """Like :func:`read`, but a file without ``[tool.continuum]`` is an error too."""
    table = read(pyproject)
    if table is None:
        raise PyprojectError(
            f"{pyproject}: no [tool.continuum] table; add "
            '`workflows = ["myapp.flows"]` and `generated = "myapp/_continuum"`',
            path=pyproject,
        )
    return table


def find(start: Path) -> ContinuumTable | None:
    """The nearest ``pyproject.toml`` at or above ``start`` (a file or directory) that has
    a ``[tool.continuum]`` table; ``None`` when there is none up to the filesystem root.

    A ``pyproject.toml`` without the table is passed over (a package inside a larger
    project); one that cannot be parsed on the way is an error, never skipped.
    """
    here = start.resolve()
    directory = here if here.is_dir() else here.parent
    for folder in (directory, *directory.parents):
        candidate = folder / PYPROJECT
        if candidate.is_file():
            table = read(candidate)
            if table is not None:
                return table
    return None


__all__ = ["PYPROJECT", "ContinuumTable", "PyprojectError", "find", "load", "read"]
