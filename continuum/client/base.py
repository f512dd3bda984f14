"""What the client's feature mixins (schedules, queues, fork) need from ``Client``, and
the checks both clients share."""

from __future__ import annotations

from typing import Any

from continuum.current_run import in_workflow
from continuum.definitions.registry import REGISTRY
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.errors import ConfigurationError, ContinuumError, WorkflowContextError
from continuum.journal.postgres import PostgresJournal


def not_in_workflow(operation: str, client: str = "Client") -> None:
    """Refuse a client call made inside a running workflow (replay would repeat it)."""
    if in_workflow():
        raise WorkflowContextError(
            f"{client}.{operation} was called inside a running workflow; client calls are "
            "side effects that replay would repeat. Use continuum.child / start_child to "
            "start runs, or call the client from an activity"
        )


def check_flow(flow: Any, operation: str, client: str = "Client") -> Workflow[Any, Any]:
    """``flow`` if it is a workflow, else a :class:`ConfigurationError` naming the call."""
    if not isinstance(flow, Workflow):
        raise ConfigurationError(
            f"{client}.{operation} expects a @continuum.workflow, got {type(flow).__name__}"
        )
    return flow


def current_version(versions: VersionRegistry, workflow: str) -> str | None:
    """The version hash new runs of ``workflow`` get: the loaded definition's (through the
    build manifest), else the manifest's current one (``None``: neither)."""
    try:
        return versions.for_start(REGISTRY.workflow(workflow)).version_hash
    except ContinuumError:
        return versions.current_hash(workflow)


class ClientBase:
    """Declares the members of ``Client`` the mixins use."""

    namespace: str

    @property
    def journal(self) -> PostgresJournal:
        raise NotImplementedError

    @property
    def versions(self) -> VersionRegistry:
        raise NotImplementedError

    def current_version(self, workflow: str) -> str | None:
        """The version hash new runs of ``workflow`` get here (see :func:`current_version`)."""
        return current_version(self.versions, workflow)
