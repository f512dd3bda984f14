"""The version manifest, ``<generated>/manifest.json``.

Its format lives with its reader, :mod:`continuum.definitions.manifest` (workers and
clients load it without importing the build tooling); the build writes it through the
same models, re-exported here.
"""

from __future__ import annotations

from continuum.definitions.manifest import (
    MANIFEST_NAME,
    Manifest,
    PatchSiteEntry,
    VersionEntry,
    WorkflowEntry,
)

__all__ = ["MANIFEST_NAME", "Manifest", "PatchSiteEntry", "VersionEntry", "WorkflowEntry"]
