"""Where definitions are found by their stable names."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from continuum.errors import WorkflowNotRegistered

if TYPE_CHECKING:  # the decorators import this module to register what they define
    from continuum.definitions.activity import Activity
    from continuum.definitions.workflow import Workflow


class Registry:
    """Workflows by logical name (current and frozen versions) and activities by name.

    The live (non-frozen) definition registered last under a name is that name's
    *current* version. Frozen versions come from ``continuum build`` modules and are
    looked up by ``(name, version_hash)`` when a run resumes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[str, Workflow[Any, Any]] = {}
        self._versions: dict[tuple[str, str], Workflow[Any, Any]] = {}
        self._activities: dict[str, Activity[Any, Any]] = {}

    def add_workflow(self, flow: Workflow[Any, Any]) -> None:
        """Register a workflow definition (frozen ones only by version)."""
        with self._lock:
            if flow.frozen_hash is None:
                self._current[flow.name] = flow
            else:
                self._versions[(flow.name, flow.frozen_hash)] = flow

    def add_activity(self, act: Activity[Any, Any]) -> None:
        """Register an activity; the last definition under a name wins (module reloads)."""
        with self._lock:
            self._activities[act.name] = act

    def workflow(self, name: str) -> Workflow[Any, Any]:
        """The current definition of ``name``."""
        try:
            return self._current[name]
        except KeyError:
            raise WorkflowNotRegistered(
                f"workflow {name!r} is not registered in this process; import the module "
                "that defines it or pass it to Worker(workflows=[...])"
            ) from None

    def version(self, name: str, version_hash: str) -> Workflow[Any, Any] | None:
        """The definition that runs ``version_hash`` of ``name``, if this process has it."""
        flow = self._versions.get((name, version_hash))
        if flow is not None:
            return flow
        current = self._current.get(name)
        if current is not None and current.version_hash == version_hash:
            return current
        return None

    def activity(self, name: str) -> Activity[Any, Any]:
        """The activity registered as ``name``."""
        try:
            return self._activities[name]
        except KeyError:
            raise WorkflowNotRegistered(
                f"activity {name!r} is not registered in this process; import its module "
                "or pass it to Worker(activities=[...])"
            ) from None

    def has_activity(self, name: str) -> bool:
        """Whether ``name`` is registered."""
        return name in self._activities

    def workflows(self) -> list[Workflow[Any, Any]]:
        """Every current workflow."""
        return list(self._current.values())


REGISTRY = Registry()
"""The process-wide registry the decorators write to."""
