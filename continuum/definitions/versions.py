"""The runtime side of content-addressed versions: which code runs which run.

``continuum build`` writes ``manifest.json`` and one frozen ``V_<hash>`` module per
workflow version. At worker and client start the :class:`VersionRegistry` loads the
manifest (no hashing at run time) and answers two questions:

- *Which version does a new run start on?* The manifest's ``current`` hash, executed
  through its frozen module, so a run's command identities never depend on whether it
  happens to run on the live source or on the frozen copy.
- *Which code resumes run X?* The frozen module of the run's journaled hash. A node
  that lacks it (or cannot import it) answers ``None``; the runtime then releases the
  run and backs it off for a capable node (``run.unknown_version``).

Without a manifest (an unbuilt project, or the testing kit) the live definitions run,
stamped with a hash of their source text.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from continuum.definitions.manifest import MANIFEST_NAME, Manifest
from continuum.definitions.registry import REGISTRY
from continuum.definitions.workflow import Workflow
from continuum.errors import ConfigurationError, WorkflowNotRegistered
from continuum_pyproject import ContinuumTable, PyprojectError, find

T = TypeVar("T")

_log = logging.getLogger("continuum.versions")

MANIFEST_ENV = "CONTINUUM_MANIFEST"


@dataclass(frozen=True)
class VersionInfo:
    """One workflow version as the manifest records it."""

    workflow: str
    version_hash: str
    entrypoint: str
    current: bool
    patched: tuple[str, ...] = ()


def _setting(read: Callable[[], T]) -> T:
    """``read()``, with a ``[tool.continuum]`` problem as a :class:`ConfigurationError`."""
    try:
        return read()
    except PyprojectError as exc:
        raise ConfigurationError(str(exc)) from None


def _project(start: Path | None) -> ContinuumTable | None:
    """The ``[tool.continuum]`` table nearest ``start`` (default: CWD), if any."""
    return _setting(lambda: find(start or Path.cwd()))


def find_manifest(start: Path | None = None) -> Path | None:
    """The manifest named by ``$CONTINUUM_MANIFEST``, or found via ``[tool.continuum]``
    in the nearest ``pyproject.toml`` at or above ``start`` (default: CWD) that has one."""
    explicit = os.environ.get(MANIFEST_ENV)
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            raise ConfigurationError(f"{MANIFEST_ENV}={explicit} does not name a manifest file")
        return path
    table = _project(start)
    if table is None or "generated" not in table:
        return None
    manifest = _setting(table.generated) / MANIFEST_NAME
    return manifest if manifest.is_file() else None


class VersionRegistry:
    """Workflow versions this process can run, from the build manifest."""

    def __init__(
        self, versions: list[VersionInfo] | None = None, *, modules: tuple[str, ...] = ()
    ) -> None:
        self.modules = modules  # the [tool.continuum] workflows modules the build covers
        self._versions = {(v.workflow, v.version_hash): v for v in versions or []}
        self._current = {v.workflow: v for v in versions or [] if v.current}
        self._loaded: dict[tuple[str, str], Workflow[Any, Any] | None] = {}
        self._load_errors: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_manifest(cls, path: Path, *, modules: tuple[str, ...] = ()) -> VersionRegistry:
        """Load ``manifest.json`` as written by ``continuum build``."""
        manifest = Manifest.load(path)
        versions = [
            VersionInfo(
                workflow=name,
                version_hash=digest,
                entrypoint=entry.entrypoint,
                current=digest == wf.current,
                patched=tuple(site.id for site in entry.patched),
            )
            for name, wf in manifest.workflows.items()
            for digest, entry in wf.versions.items()
        ]
        return cls(versions, modules=modules)

    @classmethod
    def discover(cls, start: Path | None = None) -> VersionRegistry:
        """The registry of the project at ``start`` (empty when it has no manifest)."""
        path = find_manifest(start)
        if path is None:
            return cls()
        table = _project(start)
        modules = _setting(lambda: table.strings("workflows")) if table else ()
        return cls.from_manifest(path, modules=modules)

    def covers(self, flow: Workflow[Any, Any]) -> bool:
        """Whether the build is responsible for ``flow`` (listed module or known name)."""
        if flow.name in self._current:
            return True
        module = flow.fn.__module__
        return any(module == m or module.startswith(m + ".") for m in self.modules)

    @property
    def built(self) -> bool:
        """Whether a manifest was loaded."""
        return bool(self._versions)

    def current_hash(self, workflow: str) -> str | None:
        """The manifest's current version hash of ``workflow`` (``None``: not built)."""
        info = self._current.get(workflow)
        return None if info is None else info.version_hash

    def versions(self) -> list[VersionInfo]:
        """Every version in the manifest."""
        return list(self._versions.values())

    def _load(self, info: VersionInfo) -> Workflow[Any, Any] | None:
        key = (info.workflow, info.version_hash)
        with self._lock:
            if key in self._loaded:
                return self._loaded[key]
        flow: Workflow[Any, Any] | None
        try:
            importlib.import_module(info.entrypoint)
            flow = REGISTRY.version(info.workflow, info.version_hash)
        except Exception as exc:  # a frozen module whose imports no longer resolve
            # Quiet here: a worker looks at every version at boot, and most processes
            # never need most of them. The error surfaces where a version is needed.
            _log.debug("cannot load %s (%s): %s", info.entrypoint, info.workflow, exc)
            self._load_errors[key] = f"{type(exc).__name__}: {exc}"
            flow = None
        with self._lock:
            self._loaded[key] = flow
        return flow

    def for_start(self, flow: Workflow[Any, Any]) -> Workflow[Any, Any]:
        """The definition a new run of ``flow`` starts on (its current frozen version)."""
        if not self.built or flow.frozen_hash is not None or not self.covers(flow):
            return flow
        info = self._current.get(flow.name)
        if info is None:
            raise WorkflowNotRegistered(
                f"workflow {flow.name!r} is not in the build manifest; run `continuum build` "
                "(and commit the generated modules) before starting it"
            )
        frozen = self._load(info)
        if frozen is None:
            why = self._load_errors.get((info.workflow, info.version_hash), "unknown error")
            raise WorkflowNotRegistered(
                f"cannot start {flow.name!r}: its current version {info.version_hash} cannot "
                f"be imported from {info.entrypoint} ({why}); run `continuum build` in the "
                "project (and commit the generated modules), or run from the project's folder"
            )
        return frozen

    def resolve(self, name: str, version_hash: str) -> Workflow[Any, Any] | None:
        """The code that resumes a run of ``(name, version_hash)``, or ``None``."""
        info = self._versions.get((name, version_hash))
        if info is not None:
            return self._load(info)
        return REGISTRY.version(name, version_hash)
