"""The workflow's effects as the determinism scanner sees them in its source.

For a run's ``(workflow, version_hash)`` the Observer finds the code that resumes it
(the frozen ``V_<hash>`` module when the build has one), parses that file with
:mod:`continuum_lint`'s model (imports and aliases resolved), and lists every call of
the workflow-side API in the workflow function, in source order, with ``file:line``.
Each effect is marked *reached* when the run's journal holds a command from that call
site (same function, same line offset), so an operator sees where the run is and what
is still ahead of it.
"""

from __future__ import annotations

import ast
import inspect
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from continuum.definitions.workflow import Workflow
from continuum.journal.inspection import CallSite
from continuum_lint.denylist import Denylist
from continuum_lint.model import ModuleInfo

# Workflow-side API name -> (effect kind shown, how its target is read).
_EFFECTS: dict[str, str] = {
    "continuum.execute": "activity",
    "continuum.start_activity": "activity",
    "continuum.wait_signal": "signal",
    "continuum.sleep": "timer",
    "continuum.child": "child",
    "continuum.start_child": "child",
    "continuum.wait_child": "child wait",
    "continuum.continue_as_new": "continue_as_new",
    "continuum.compensate": "compensation",
    "continuum.compensate_all": "compensation",
    "continuum.side_effect": "side_effect",
    "continuum.now": "side_effect",
    "continuum.today": "side_effect",
    "continuum.uuid4": "side_effect",
    "continuum.random": "side_effect",
    "continuum.patched": "patched",
    "continuum.gather": "gather",
}
# Waits on handles started elsewhere: no command of their own, so "reached" is unknown.
_UNTRACKED = frozenset({"continuum.wait_child", "continuum.gather"})
_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class StaticEffect:
    """One effect call site in the workflow's source."""

    kind: str
    api: str
    target: str
    file: str
    line: int
    offset: int
    reached: bool | None
    """Whether the run's journal has a command from this call site (``None``: the call
    journals no command of its own, e.g. ``wait_child``)."""

    def to_json(self) -> dict[str, Any]:
        """The effect as a JSON-ready dict."""
        return {
            "kind": self.kind,
            "api": self.api,
            "target": self.target,
            "file": self.file,
            "line": self.line,
            "reached": self.reached,
        }


@dataclass(frozen=True)
class EffectsView:
    """The static effects of one workflow version, or why they are unavailable."""

    effects: list[StaticEffect]
    source: str | None
    unavailable: str | None = None


_cache: dict[tuple[str, float], ModuleInfo] = {}
_cache_lock = threading.Lock()


def _module(path: str) -> ModuleInfo:
    stamp = os.stat(path).st_mtime
    with _cache_lock:
        found = _cache.get((path, stamp))
    if found is not None:
        return found
    with open(path, encoding="utf-8") as fh:
        source = fh.read()
    info = ModuleInfo.parse(source, path, Denylist(None))
    with _cache_lock:
        _cache[(path, stamp)] = info
    return info


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    """Calls inside ``node`` in source order, not entering nested functions or classes."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _NESTED):
            continue
        if isinstance(child, ast.Call):
            yield child
        yield from _calls(child)


def _target(info: ModuleInfo, call: ast.Call) -> str:
    """What the call acts on, as written: a signal name (or names), an activity, a
    duration..."""
    if not call.args:
        return ""
    first = call.args[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    if isinstance(first, ast.List) and all(isinstance(e, ast.Constant) for e in first.elts):
        return ", ".join(str(e.value) for e in first.elts if isinstance(e, ast.Constant))
    return info.segment(first)[:60]


def _function_node(
    info: ModuleInfo, qualname: str
) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    found = info.functions.get(qualname)
    if found is not None:
        return found.node
    for fn in info.functions.values():
        if fn.name == qualname or fn.name.endswith(f".{qualname}"):
            return fn.node
    return None


def static_effects(flow: Workflow[Any, Any], reached: set[CallSite]) -> EffectsView:
    """The effects of ``flow``'s function in its source file, marked against ``reached``."""
    fn = flow.fn
    try:
        path = inspect.getsourcefile(fn)
    except TypeError:
        path = None
    if path is None or not os.path.exists(path):
        return EffectsView([], None, f"the source of {flow.name} is not available on this host")
    try:
        info = _module(path)
    except (OSError, SyntaxError, ValueError) as exc:
        return EffectsView([], path, f"cannot read {path}: {exc}")
    qualname = getattr(fn, "__qualname__", fn.__name__)
    node = _function_node(info, qualname)
    if node is None:
        return EffectsView([], path, f"{qualname} is not a top-level function of {path}")
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
    offsets = {(q, off) for (_kind, q, off) in reached}
    effects: list[StaticEffect] = []
    for call in _calls(node):
        api = info.resolve(call.func)
        if api is None:
            continue
        kind = _EFFECTS.get(api)
        if kind is None:
            continue
        effects.append(
            StaticEffect(
                kind=kind,
                api=api,
                target=_target(info, call),
                file=path,
                line=call.lineno,
                offset=call.lineno - first,
                reached=None if api in _UNTRACKED else (qualname, call.lineno - first) in offsets,
            )
        )
    effects.sort(key=lambda e: (e.line, e.offset))
    return EffectsView(effects, path)


def effects_for_run(
    resolve: Callable[[str, str], Workflow[Any, Any] | None],
    workflow: str,
    version_hash: str,
    reached: Callable[[], set[CallSite]],
) -> EffectsView:
    """The static effects of the code that runs ``(workflow, version_hash)`` on this host."""
    flow = resolve(workflow, version_hash)
    if flow is None:
        return EffectsView(
            [],
            None,
            f"version {version_hash} of {workflow} is not loaded here (import its module or "
            "run the Observer from the project with the build manifest)",
        )
    return static_effects(flow, reached())
