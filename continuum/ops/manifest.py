"""The build manifest as operator tools read it: patch sites and where the file lives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from continuum.definitions.manifest import MANIFEST_NAME, Manifest
from continuum.definitions.versions import VersionRegistry
from continuum_codegen.config import load_config


@dataclass(frozen=True)
class PatchSite:
    """A ``patched(patch_id)`` call in the current version of ``workflow``.

    ``hashes_with_site`` are every known version of the workflow whose code has a call
    with the same id: runs on those versions never predate it.
    """

    workflow: str
    version_hash: str
    patch_id: str
    function: str
    line: int | None
    hashes_with_site: frozenset[str]


@dataclass(frozen=True)
class ProjectManifest:
    """A project's manifest (``None`` when the project is unknown or unbuilt)."""

    path: Path | None
    manifest: Manifest | None

    def current_patch_sites(self, registry: VersionRegistry) -> list[PatchSite]:
        """Patch sites of each workflow's current version, with file lines when known."""
        if self.manifest is None:
            return _sites_from_registry(registry)
        sites: list[PatchSite] = []
        for name in sorted(self.manifest.workflows):
            entry = self.manifest.workflows[name]
            current = entry.versions.get(entry.current)
            if current is None:
                continue
            for site in current.patched:
                having = frozenset(
                    digest
                    for digest, version in entry.versions.items()
                    if any(other.id == site.id for other in version.patched)
                )
                sites.append(
                    PatchSite(name, entry.current, site.id, site.function, site.line, having)
                )
        return sites


def _sites_from_registry(registry: VersionRegistry) -> list[PatchSite]:
    versions = registry.versions()
    sites: list[PatchSite] = []
    for info in sorted(versions, key=lambda v: v.workflow):
        if not info.current:
            continue
        for patch_id in dict.fromkeys(info.patched):
            having = frozenset(
                v.version_hash
                for v in versions
                if v.workflow == info.workflow and patch_id in v.patched
            )
            sites.append(
                PatchSite(info.workflow, info.version_hash, patch_id, info.workflow, None, having)
            )
    return sites


def load_project_manifest(project_root: Path | None) -> ProjectManifest:
    """Read the manifest named by ``[tool.continuum]`` under ``project_root``.

    Raises :class:`~continuum_codegen.errors.ConfigError` for a project without a valid
    ``[tool.continuum]``; a configured but unbuilt project has ``manifest=None``.
    """
    if project_root is None:
        return ProjectManifest(None, None)
    config = load_config(project_root)
    path = config.generated / MANIFEST_NAME
    if not path.is_file():
        return ProjectManifest(None, None)
    return ProjectManifest(path, Manifest.load(path))
