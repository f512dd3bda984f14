"""The source model: one libcst parse per file, shared by the scanner and codegen.

:mod:`~continuum_lint.source.modules` parses and indexes modules and resolves imports;
:mod:`~continuum_lint.source.discover` finds workflows, ``@pure`` helpers and
activities; :mod:`~continuum_lint.source.closure` builds each root's call closure (what
the scanner checks and what codegen hashes); :mod:`~continuum_lint.source.effects`
derives a workflow's static effect graph from it. (The functions ``closure`` and
``discover`` are imported from their modules: the package names are the modules.)
"""

from __future__ import annotations

from continuum_lint.source.closure import Closure, Edge, Member, edges_of, root_member
from continuum_lint.source.discover import WorkflowDef, roots_in, workflows_in
from continuum_lint.source.effects import Effect, effect_graph, graph_changed
from continuum_lint.source.errors import ModelError, ModuleNotFound, SourceError
from continuum_lint.source.modules import ModuleCache, ModuleSource, parse_source, search_roots

__all__ = [
    "Closure",
    "Edge",
    "Effect",
    "Member",
    "ModelError",
    "ModuleCache",
    "ModuleNotFound",
    "ModuleSource",
    "SourceError",
    "WorkflowDef",
    "edges_of",
    "effect_graph",
    "graph_changed",
    "parse_source",
    "root_member",
    "roots_in",
    "search_roots",
    "workflows_in",
]
