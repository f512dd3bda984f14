"""The determinism rules, one module each. ``ALL_RULES`` is the order they run in."""

from __future__ import annotations

from continuum_lint.rules.async_workflow import AsyncWorkflow
from continuum_lint.rules.base import Rule
from continuum_lint.rules.client_ops import ClientOperation
from continuum_lint.rules.denylisted import DenylistedCall
from continuum_lint.rules.dynamic import DynamicReceiver
from continuum_lint.rules.exceptions import ExceptionSwallowing
from continuum_lint.rules.global_state import GlobalState
from continuum_lint.rules.hash_identity import HashIdentity
from continuum_lint.rules.saga import UncompensatedActivity
from continuum_lint.rules.set_iteration import SetIteration
from continuum_lint.rules.untrusted import UntrustedCall
from continuum_lint.rules.workflow_only import WorkflowOnlyCall

ALL_RULES: tuple[type[Rule], ...] = (
    DenylistedCall,
    ClientOperation,
    AsyncWorkflow,
    ExceptionSwallowing,
    UntrustedCall,
    UncompensatedActivity,
    GlobalState,
    SetIteration,
    HashIdentity,
    DynamicReceiver,
    WorkflowOnlyCall,
)

__all__ = ["ALL_RULES"]
