"""Scanner configuration, read from ``[tool.continuum]`` in the nearest pyproject.toml.

Keys (all optional)::

    [tool.continuum]
    trusted_modules = ["myapp.money"]        # helper modules workflows may call
    untrusted_call_severity = "warn"         # or "error": CNT213 becomes CNT113
    denylist = [{ name = "myapp.clock.now", code = "CNT101", hint = "use continuum.now()" }]

The file is found and read by :mod:`continuum_pyproject` (shared with the build, the CLI
and the version registry); its :class:`~continuum_pyproject.PyprojectError` is this
module's :data:`ConfigError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuum_lint.denylist import Denylist, Entry, extra_entry
from continuum_pyproject import PYPROJECT, ContinuumTable, PyprojectError, find, read

ConfigError = PyprojectError
"""The ``[tool.continuum]`` table (or its file) has something the scanner cannot use; the
message names the file and the key."""


@dataclass(frozen=True)
class Config:
    """Effective scanner settings."""

    trusted_modules: tuple[str, ...] = ()
    untrusted_call_severity: str = "warn"
    extra_denylist: tuple[Entry, ...] = ()
    source: str | None = None
    denylist: Denylist = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        extra = {entry.name: entry for entry in self.extra_denylist}
        object.__setattr__(self, "denylist", Denylist(extra))

    @property
    def key(self) -> tuple[object, ...]:
        """A hashable identity used to key verdict caches."""
        names = tuple(e.name for e in self.extra_denylist)
        return (self.trusted_modules, self.untrusted_call_severity, names)


def parse_config(table: dict[str, Any], source: str | None = None) -> Config:
    """Build a :class:`Config` from a parsed ``[tool.continuum]`` table (from ``source``)."""
    return _config(ContinuumTable(Path(source) if source else None, table))


def _config(table: ContinuumTable) -> Config:
    trusted = table.strings("trusted_modules")
    severity = table.choice("untrusted_call_severity", ("warn", "error"), "warn")
    extra: list[Entry] = []
    for item in table.tables("denylist"):
        name = item.get("name")
        if not isinstance(name, str) or not name:
            raise table.problem("denylist", "entries need a name")
        code = str(item.get("code", "CNT101"))
        if not (code.startswith("CNT") and code[3:].isdigit() and len(code) == 6):
            raise table.problem("denylist", f"code {code!r} is not CNTnnn")
        hint = str(item.get("hint", "move it into an activity"))
        extra.append(extra_entry(name, code, hint))
    source = None if table.path is None else str(table.path)
    return Config(trusted, severity, tuple(extra), source)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.continuum]``."""
    table = find(start)
    return None if table is None else table.path


@lru_cache(maxsize=256)
def _load_dir(directory: Path) -> Config:
    table = find(directory)
    return Config() if table is None else _config(table)


def load_config(for_path: str | Path) -> Config:
    """The configuration that applies to the file or directory ``for_path``; given a
    ``pyproject.toml`` itself, that file's table (defaults when it has none)."""
    path = Path(for_path).resolve()
    if path.name == PYPROJECT and path.is_file():
        table = read(path)
        return Config() if table is None else _config(table)
    return _load_dir(path if path.is_dir() else path.parent)
