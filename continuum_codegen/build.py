"""``continuum build``: hash workflows, write frozen modules and the manifest.

Nothing is imported or executed. Every output file is planned first, then written only
when its bytes differ, so a rebuild of unchanged code touches nothing; ``check=True``
computes the same plan and reports what would change instead of writing it.

Frozen ``V_<hash>.py`` files are written once and never rewritten: a comment or blank
line added inside a workflow keeps its hash, but would move the line offsets that
command identities are built from, so the first-built file stays authoritative.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from continuum_codegen.config import CodegenConfig, load_config
from continuum_codegen.discover import WorkflowDef, discover
from continuum_codegen.effects import EffectDiff, compare
from continuum_codegen.hashing import SCHEME, hash_workflow
from continuum_codegen.manifest import (
    MANIFEST_NAME,
    Manifest,
    PatchSiteEntry,
    VersionEntry,
    WorkflowEntry,
)
from continuum_codegen.modules import ModuleCache, ModuleSource, search_roots
from continuum_codegen.render import (
    frozen_filename,
    relative_posix,
    render_frozen_module,
    render_package_init,
)

VersionStatus = Literal["new", "unchanged", "restored"]


@dataclass(frozen=True)
class WorkflowBuild:
    """What the build found for one workflow.

    ``status`` is ``new`` (hash never built before), ``unchanged`` (already current) or
    ``restored`` (a previously built version became current again).
    """

    name: str
    module: str
    qualname: str
    source: str
    hash: str
    entrypoint: str
    status: VersionStatus
    patched: tuple[PatchSiteEntry, ...] = ()
    effects: EffectDiff | None = None
    """Set when the hash differs from the manifest's current version: the effect diff."""


@dataclass
class BuildReport:
    """Result of :func:`build`: the workflows, files written and (for ``check``) staleness."""

    project_root: Path
    generated_dir: Path
    package: str
    check: bool
    workflows: list[WorkflowBuild] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """False when ``check`` found the generated files out of date."""
        return not self.stale

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's ``--format json`` output)."""
        return {
            "scheme": SCHEME,
            "check": self.check,
            "ok": self.ok,
            "generated": relative_posix(self.generated_dir, self.project_root),
            "package": self.package,
            "workflows": [
                {
                    "name": w.name,
                    "module": w.module,
                    "qualname": w.qualname,
                    "source": w.source,
                    "hash": w.hash,
                    "entrypoint": w.entrypoint,
                    "status": w.status,
                    "patched": [p.model_dump() for p in w.patched],
                    "effects": None
                    if w.effects is None
                    else {
                        "previous": w.effects.previous,
                        "changed": w.effects.changed,
                        "verdict": w.effects.verdict,
                        "diff": list(w.effects.lines),
                    },
                }
                for w in self.workflows
            ],
            "written": [relative_posix(p, self.project_root) for p in self.written],
            "stale": list(self.stale),
            "notes": list(self.notes),
        }


def _module_root(src: ModuleSource) -> Path:
    depth = len(src.name.split(".")) - (0 if src.is_package else 1)
    return src.path.resolve().parents[depth]


def generated_package(config: CodegenConfig, workflows: list[WorkflowDef]) -> str:
    """Dotted name of the generated package, relative to the root its workflows import from."""
    roots = [_module_root(w.source) for w in workflows] + [config.project_root]
    for root in roots:
        try:
            relative = config.generated.relative_to(root)
        except ValueError:
            continue
        if relative.parts:
            return ".".join(relative.parts)
    return config.generated.name


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _plan(
    config: CodegenConfig, cache: ModuleCache
) -> tuple[str, list[WorkflowBuild], dict[Path, str], list[str]]:
    workflows = discover(config.workflows, cache)
    package = generated_package(config, workflows)
    manifest_path = config.generated / MANIFEST_NAME
    manifest = Manifest.load(manifest_path)
    manifest.scheme = SCHEME
    planned: dict[Path, str] = {config.generated / "__init__.py": render_package_init()}
    builds: list[WorkflowBuild] = []
    notes: list[str] = []
    built_at = _now()
    for workflow in workflows:
        result = hash_workflow(workflow, cache)
        source = relative_posix(workflow.source.path, config.project_root)
        entry = manifest.workflows.get(workflow.name)
        previous = entry.versions.get(result.hash) if entry is not None else None
        effects = None
        if entry is not None and entry.current != result.hash:
            effects = compare(
                workflow,
                result,
                entry.current,
                config.generated,
                package,
                cache,
                config.project_root,
            )
        status: VersionStatus = "new"
        if previous is not None:
            status = (
                "unchanged" if entry is not None and entry.current == result.hash else "restored"
            )
        patched = [
            PatchSiteEntry(id=p.id, line=p.line, function=p.function) for p in result.patched
        ]
        # A version's entry, like its frozen file, is fixed when the version is first built.
        version = previous or VersionEntry(
            entrypoint=f"{package}.{frozen_filename(result.hash)[:-3]}",
            qualname=workflow.qualname,
            source=source,
            built_at=built_at,
            patched=patched,
        )
        if entry is None:
            entry = manifest.workflows[workflow.name] = WorkflowEntry(current=result.hash)
        entry.current = result.hash
        entry.versions[result.hash] = version
        frozen = config.generated / frozen_filename(result.hash)
        text = render_frozen_module(result, source)
        # Write-once: runs journaled on this hash replay through this file, and command
        # identities depend on its line layout, which the hash deliberately ignores.
        if not frozen.exists():
            planned[frozen] = text
        elif _differs(frozen, text):
            notes.append(
                f"{relative_posix(frozen, config.project_root)}: kept as first built; the source "
                "differs only in comments/layout, which the hash ignores"
            )
        builds.append(
            WorkflowBuild(
                name=workflow.name,
                module=workflow.module,
                qualname=workflow.qualname,
                source=source,
                hash=result.hash,
                entrypoint=version.entrypoint,
                status=status,
                patched=tuple(version.patched),
                effects=effects,
            )
        )
    planned[manifest_path] = manifest.dumps()
    return package, builds, planned, notes


def _differs(path: Path, text: str) -> bool:
    try:
        return path.read_text(encoding="utf-8") != text
    except FileNotFoundError:
        return True


def build(project_root: Path, *, check: bool = False) -> BuildReport:
    """Build (or with ``check=True`` only verify) the frozen versions of a project's workflows.

    Raises :class:`~continuum_codegen.errors.CodegenError` for a missing or invalid
    ``[tool.continuum]``, a workflow module that cannot be found or parsed, or duplicate
    logical workflow names.
    """
    config = load_config(project_root)
    cache = ModuleCache(search_roots(config.project_root))
    package, builds, planned, notes = _plan(config, cache)
    report = BuildReport(
        project_root=config.project_root,
        generated_dir=config.generated,
        package=package,
        check=check,
        workflows=builds,
        notes=notes,
    )
    for path, text in planned.items():
        if not _differs(path, text):
            continue
        shown = relative_posix(path, config.project_root)
        if check:
            reason = "missing" if not path.exists() else "out of date"
            report.stale.append(f"{shown}: {reason}")
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        report.written.append(path)
    if check:
        for item in builds:
            if item.status != "unchanged":
                report.stale.append(
                    f"workflow {item.name!r}: current code hashes to {item.hash}, "
                    "which the manifest does not have as current"
                )
    return report


@dataclass
class GcReport:
    """Result of :func:`gc_versions`: versions removable (and removed, with ``execute``)."""

    executed: bool
    removable: list[tuple[str, str]] = field(default_factory=list)
    kept_pinned: list[tuple[str, str]] = field(default_factory=list)
    deleted_files: list[Path] = field(default_factory=list)


def gc_versions(project_root: Path, keep: set[str], *, execute: bool = False) -> GcReport:
    """Remove non-current versions whose hash is not in ``keep`` (hashes open runs need).

    Dry run unless ``execute``: only then are ``V_<hash>.py`` files deleted and manifest
    entries dropped. A current version is never removed.
    """
    config = load_config(project_root)
    manifest_path = config.generated / MANIFEST_NAME
    manifest = Manifest.load(manifest_path)
    report = GcReport(executed=execute)
    for name in sorted(manifest.workflows):
        entry = manifest.workflows[name]
        for version_hash in sorted(entry.versions):
            if version_hash == entry.current:
                continue
            target = report.kept_pinned if version_hash in keep else report.removable
            target.append((name, version_hash))
    if not execute or not report.removable:
        return report
    for name, version_hash in report.removable:
        del manifest.workflows[name].versions[version_hash]
    still_used = {h for entry in manifest.workflows.values() for h in entry.versions}
    for _, version_hash in report.removable:
        path = config.generated / frozen_filename(version_hash)
        if version_hash not in still_used and path.exists():
            path.unlink()
            report.deleted_files.append(path)
    manifest.save(manifest_path)
    return report
