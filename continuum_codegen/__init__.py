"""Content-addressed workflow versions: hashing, frozen modules and the version manifest.

``continuum build`` (:func:`build`) hashes each workflow found in the modules listed by
``[tool.continuum] workflows``, writes a frozen ``V_<hash>.py`` module per version into
the ``generated`` package and records every version in ``manifest.json``.
"""

from continuum_codegen.build import BuildReport, GcReport, WorkflowBuild, build, gc_versions
from continuum_codegen.errors import CodegenError, ConfigError, ModuleNotFound, SourceError
from continuum_codegen.hashing import HASH_LENGTH, SCHEME, WorkflowHash, hash_workflow
from continuum_codegen.manifest import (
    MANIFEST_NAME,
    Manifest,
    PatchSiteEntry,
    VersionEntry,
    WorkflowEntry,
)

__all__ = [
    "HASH_LENGTH",
    "MANIFEST_NAME",
    "SCHEME",
    "BuildReport",
    "CodegenError",
    "ConfigError",
    "GcReport",
    "Manifest",
    "ModuleNotFound",
    "PatchSiteEntry",
    "SourceError",
    "VersionEntry",
    "WorkflowBuild",
    "WorkflowEntry",
    "WorkflowHash",
    "build",
    "gc_versions",
    "hash_workflow",
]
