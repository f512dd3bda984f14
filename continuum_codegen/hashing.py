"""Content hashes of workflows.

A workflow's hash covers, in canonical form (:mod:`continuum_codegen.canonical`), the
members of its closure in the source model (:mod:`continuum_lint.source.closure`), the
same closure the determinism scanner checks:

* the workflow function, decorators included;
* the same-module functions it reaches transitively (by name, called or passed), except
  activities and workflows, which are effects rather than workflow code;
* methods of same-module classes it reaches as ``Cls.m``, or calls on a parameter
  annotated with a same-module pydantic model or dataclass (``sub.next_cycle()``);
* module-level constants (``NAME = <expr>``, bound once) it reads, and what their values read;
* ``@continuum.pure`` functions it reaches in other modules (``from myapp.helpers import f``
  or ``helpers.f``), resolved to their source file without importing anything.

The digest is ``sha256("continuum-hash-v1\\n" + members)`` and the public hash is its
first 16 hex characters.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import libcst as cst

from continuum.definitions.manifest import SCHEME as SCHEME  # the scheme this module implements
from continuum_codegen.canonical import canonical
from continuum_codegen.discover import WorkflowDef, is_continuum_api
from continuum_codegen.errors import SourceError
from continuum_codegen.modules import ModuleCache, translated
from continuum_lint.source.closure import Closure, Member, root_member
from continuum_lint.source.closure import closure as model_closure

HASH_LENGTH = 16


@dataclass(frozen=True)
class PatchSite:
    """A ``continuum.patched("id")`` call in hashed code."""

    id: str
    line: int
    function: str


@dataclass
class WorkflowHash:
    """The hash of one workflow and the closure it was computed over."""

    workflow: WorkflowDef
    hash: str
    digest: str
    members: list[Member] = field(default_factory=list)
    patched: list[PatchSite] = field(default_factory=list)
    closure: Closure | None = None


def workflow_closure(workflow: WorkflowDef, cache: ModuleCache) -> Closure:
    """The source model's closure of ``workflow`` (the one the scanner checks)."""
    with translated():
        return model_closure(root_member(workflow.source, workflow.node, "workflow"), cache)


def closure(workflow: WorkflowDef, cache: ModuleCache) -> list[Member]:
    """The workflow and everything it reaches, sorted workflow-first then by kind and name."""
    return workflow_closure(workflow, cache).sorted_members()


class _PatchCalls(cst.CSTVisitor):
    def __init__(self, member: Member) -> None:
        self.member = member
        self.sites: list[PatchSite] = []

    def visit_Call(self, node: cst.Call) -> None:
        src = self.member.source
        if not is_continuum_api(src.qualified_name(node.func), "patched"):
            return
        line = src.line_of(node)
        arg = node.args[0].value if node.args else None
        patch_id = arg.evaluated_value if isinstance(arg, cst.SimpleString) else None
        if not isinstance(patch_id, str):
            raise SourceError(
                f"{src.path}:{line}: continuum.patched() needs a string literal id "
                "so builds and audits can track it"
            )
        self.sites.append(PatchSite(patch_id, line, self.member.key))


def patch_sites(members: list[Member]) -> list[PatchSite]:
    """``continuum.patched("id")`` call sites in the hashed code, in a stable order."""
    sites: list[PatchSite] = []
    for member in members:
        if member.kind == "constant":
            continue
        visitor = _PatchCalls(member)
        member.node.visit(visitor)
        sites.extend(visitor.sites)
    return sorted(set(sites), key=lambda s: (s.function, s.line, s.id))


def hash_input(workflow: WorkflowDef, members: list[Member]) -> str:
    """The exact text that is hashed (exposed for debugging hash changes)."""
    parts = [SCHEME, f"workflow {workflow.module}:{workflow.qualname}"]
    for member in members:
        parts.append(f"{member.kind} {member.key}")
        parts.append(canonical(member.node))
    return "\n".join(parts) + "\n"


def hash_workflow(workflow: WorkflowDef, cache: ModuleCache) -> WorkflowHash:
    """Compute the content hash of ``workflow``."""
    found = workflow_closure(workflow, cache)
    members = found.sorted_members()
    digest = hashlib.sha256(hash_input(workflow, members).encode("utf-8")).hexdigest()
    with translated():
        patched = patch_sites(members)
    return WorkflowHash(
        workflow=workflow,
        hash=digest[:HASH_LENGTH],
        digest=digest,
        members=members,
        patched=patched,
        closure=found,
    )
