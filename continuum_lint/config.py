"""Scanner configuration, read from ``[tool.continuum]`` in the nearest pyproject.toml.

Keys (all optional)::

    [tool.continuum]
    trusted_modules = ["myapp.money"]        # helper modules workflows may call
    untrusted_call_severity = "warn"         # or "error": CNT213 becomes CNT113
    denylist = [{ name = "myapp.clock.now", code = "CNT101", hint = "use continuum.now()" }]
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from continuum_lint.denylist import Denylist, Entry, extra_entry


class ConfigError(ValueError):
    """The ``[tool.continuum]`` table has a value the scanner cannot use."""


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
    """Build a :class:`Config` from a parsed ``[tool.continuum]`` table."""
    trusted = table.get("trusted_modules", [])
    if not isinstance(trusted, list) or not all(isinstance(t, str) for t in trusted):
        raise ConfigError("[tool.continuum] trusted_modules must be a list of module names")
    severity = table.get("untrusted_call_severity", "warn")
    if severity not in ("warn", "error"):
        raise ConfigError('[tool.continuum] untrusted_call_severity must be "warn" or "error"')
    extra: list[Entry] = []
    for item in table.get("denylist", []):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigError("[tool.continuum] denylist entries need a name")
        code = str(item.get("code", "CNT101"))
        if not (code.startswith("CNT") and code[3:].isdigit() and len(code) == 6):
            raise ConfigError(f"[tool.continuum] denylist code {code!r} is not CNTnnn")
        hint = str(item.get("hint", "move it into an activity"))
        extra.append(extra_entry(item["name"], code, hint))
    return Config(tuple(trusted), severity, tuple(extra), source)


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a ``[tool.continuum]``."""
    directory = start if start.is_dir() else start.parent
    for candidate in (directory, *directory.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                continue
            if "continuum" in data.get("tool", {}):
                return path
    return None


@lru_cache(maxsize=256)
def _load_dir(directory: Path) -> Config:
    path = find_pyproject(directory)
    if path is None:
        return Config()
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return parse_config(data["tool"]["continuum"], str(path))


def load_config(for_path: str | Path) -> Config:
    """The configuration that applies to the file or directory ``for_path``."""
    path = Path(for_path).resolve()
    return _load_dir(path if path.is_dir() else path.parent)
