"""External activity executors: queues that run Continuum's activity tasks elsewhere.

Continuum keeps the task table, the retry policy, idempotency, heartbeats and the
completion CAS; an executor only carries a leased attempt to a process that runs it.
``Worker(..., activity_executor=("procrastinate", {...}))`` selects one (SPEC §5).

Layering: executors are plug-ins above the runtime. They implement the runtime's
:class:`~continuum.runtime.executor.ExternalExecutor` port and reuse its attempt runner;
only the worker (the runtime's composition root) picks one by name.
"""

from __future__ import annotations

from continuum.runtime.executor import ExternalExecutor

__all__ = ["ExternalExecutor"]
