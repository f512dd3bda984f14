"""Definitions: what a workflow, an activity and a pure helper are."""

from continuum.definitions.activity import Activity, activity
from continuum.definitions.backoff import Backoff
from continuum.definitions.pure import is_pure, pure
from continuum.definitions.registry import REGISTRY, Registry
from continuum.definitions.workflow import Workflow, workflow

__all__ = [
    "REGISTRY",
    "Activity",
    "Backoff",
    "Registry",
    "Workflow",
    "activity",
    "is_pure",
    "pure",
    "workflow",
]
