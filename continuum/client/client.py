"""``continuum.Client``: start, signal, cancel and await runs (SPEC §4).

>>> client = continuum.Client()          # $CONTINUUM_DATABASE_URL, else embedded Postgres
>>> run_id = client.start(order_flow, order, id="order-42")
>>> client.signal(run_id, "fraud_review", "approved")
>>> client.result(run_id, timeout=30)

Inputs and payloads are validated and JSON-encoded *before* anything touches the
database, so a bad value raises :class:`~continuum.errors.PayloadError` and writes
nothing. Signals, cancel and result follow ``continue_as_new`` chains to their live
tip. Client calls are effects and are refused inside a running workflow.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from continuum import payloads
from continuum.client.base import not_in_workflow
from continuum.client.queues import QueueMixin, check_queue
from continuum.client.schedules import ScheduleMixin
from continuum.client.waiting import wait_for_terminal
from continuum.db.config import validate_dsn
from continuum.definitions.registry import REGISTRY
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.errors import (
    ConfigurationError,
    PayloadError,
    RunCancelled,
    RunFailed,
    WorkflowNotRegistered,
)
from continuum.journal.postgres import PostgresJournal
from continuum.journal.records import NewRun
from continuum.models import Page, RunInfo, RunState
from continuum.runtime import instance as instances
from continuum.tracecontext import current_traceparent
from continuum.validation import (
    check_attribute_keys,
    check_name,
    check_new_run_id,
    check_run_id,
)

_not_in_workflow = not_in_workflow

IF_EXISTS = ("return", "error", "restart_failed")


class Client(ScheduleMixin, QueueMixin):
    """A connection to one Continuum instance (a database), thread-safe.

    ``dsn=None`` resolves ``$CONTINUUM_DATABASE_URL``, else the embedded server (which is
    migrated automatically). An explicit database must be migrated with
    ``continuum migrate``; otherwise the first call raises ``ConfigurationError``.
    Nothing connects until the first call that needs the database.
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        namespace: str = "default",
        instance: str = "default",
        versions: VersionRegistry | None = None,
    ) -> None:
        if dsn:
            validate_dsn(dsn)
        check_name(namespace, what="the namespace", operation="Client()")
        self._dsn = dsn
        self.namespace = namespace
        self.instance_name = instance
        self._inst: instances.Instance | None = None
        self._closed = False
        self._versions = versions

    @property
    def versions(self) -> VersionRegistry:
        """The build manifest's versions (found from CWD's pyproject; empty if unbuilt)."""
        if self._versions is None:
            self._versions = VersionRegistry.discover()
        return self._versions

    # -- plumbing ---------------------------------------------------------------------
    def _instance(self) -> instances.Instance:
        if self._closed:
            raise ConfigurationError("this Client is closed; create a new one")
        if self._inst is None:
            inst = instances.acquire(self.instance_name, self._dsn)
            try:
                inst.open()
            except BaseException:
                instances.release(inst)
                raise
            self._inst = inst
        return self._inst

    @property
    def journal(self) -> PostgresJournal:
        """The instance's journal (connects on first use)."""
        return self._instance().journal

    @property
    def dsn(self) -> str:
        """The resolved DSN of this client's database (connects, checks the schema)."""
        return self._instance().dsn

    # -- runs -------------------------------------------------------------------------
    def start(
        self,
        flow: Workflow[Any, Any],
        input: Any = None,
        *,
        id: str | None = None,
        namespace: str | None = None,
        attributes: dict[str, Any] | None = None,
        queue: str | None = None,
        priority: int = 0,
        if_exists: str = "return",
    ) -> str:
        """Start a run of ``flow``; idempotent on ``id`` (the same id is returned).

        The run is stamped with ``flow.version_hash``; a worker that has that version
        picks it up. Raises ``PayloadError`` (before touching the database) when the
        input or attributes are not JSON, or the input does not fit the workflow's type.
        With ``queue=`` the run is ``queued`` until the queue's limits let it start
        (lower ``priority`` first). ``if_exists`` says what an existing ``id`` does:
        ``"return"`` its id, ``"error"`` (``RunAlreadyExists``), or ``"restart_failed"``
        (a failed or cancelled run starts again from scratch under that id).
        """
        _not_in_workflow("start")
        if not isinstance(flow, Workflow):
            raise ConfigurationError(
                f"Client.start expects a @continuum.workflow, got {type(flow).__name__}"
            )
        if id is not None:
            check_new_run_id(id, operation="Client.start")
        if namespace is not None:
            check_name(namespace, what="the namespace", operation="Client.start")
        if attributes is not None and not isinstance(attributes, dict):
            raise PayloadError("attributes must be a JSON object (a dict)")
        check_attribute_keys(attributes or {}, operation="Client.start")
        check_queue(queue, priority, "start")
        if if_exists not in IF_EXISTS:
            raise ConfigurationError(
                f"Client.start: if_exists={if_exists!r} is not one of "
                "'return', 'error', 'restart_failed'"
            )
        # New runs start on the current built version, executed through its frozen module.
        flow = self.versions.for_start(flow)
        encoded = flow.encode_input(input)
        flow.decode_input(encoded)  # fails now, not in the first activation, on a bad type
        new = NewRun(
            id=id or uuid.uuid4().hex,
            workflow=flow.name,
            version_hash=flow.version_hash,
            input=encoded,
            namespace=namespace or self.namespace,
            attributes=payloads.encode(attributes or {}, what="attributes"),
            queue=queue,
            priority=priority,
            trace_context=current_traceparent(),
        )
        info, _created = self.journal.create_run(new, if_exists=if_exists)
        return info.id

    def signal(self, run_id: str, name: str, payload: Any = None) -> None:
        """Deliver signal ``name`` to the run (its chain's live tip).

        Raises ``PayloadError`` for a non-JSON payload (nothing is written),
        ``RunNotFound`` and ``RunTerminal``.
        """
        _not_in_workflow("signal")
        check_run_id(run_id, operation="Client.signal")
        check_name(name, what="the signal name", operation="Client.signal")
        encoded = payloads.encode(payload, what=f"payload of signal {name!r}")
        self.journal.send_signal(run_id, name, encoded)

    def cancel(self, run_id: str) -> RunInfo:
        """Cancel the run (its chain's tip) and its live descendants; terminal ``cancelled``."""
        _not_in_workflow("cancel")
        check_run_id(run_id, operation="Client.cancel")
        return self.journal.cancel(run_id)

    def result(self, run_id: str, timeout: float | None = None) -> Any:
        """Wait for the chain's final result and return it (decoded when the flow is known).

        Raises ``RunFailed``, ``RunCancelled``, or ``ResultTimeout`` (a ``TimeoutError``)
        when ``timeout`` seconds pass first. Wakes on ``continuum_run_finished`` with a
        poll fallback.
        """
        _not_in_workflow("result")
        check_run_id(run_id, operation="Client.result")
        info = wait_for_terminal(self.journal, self.dsn, run_id, timeout)
        if info.state == RunState.FAILED:
            raise RunFailed(info.id, info.error)
        if info.state == RunState.CANCELLED:
            raise RunCancelled(info.id)
        flow = REGISTRY.version(info.workflow, info.version_hash)
        if flow is None:
            try:
                flow = REGISTRY.workflow(info.workflow)
            except WorkflowNotRegistered:
                return info.result
        return flow.decode_result(info.result)

    def get_run(self, run_id: str) -> RunInfo:
        """The run's record (``RunNotFound`` for an unknown id)."""
        _not_in_workflow("get_run")
        check_run_id(run_id, operation="Client.get_run")
        return self.journal.get_run(run_id)

    def history(self, run_id: str) -> list[dict[str, Any]]:
        """The run's journal as JSON-ready dicts (``continuum.testing.replay`` accepts it)."""
        _not_in_workflow("history")
        check_run_id(run_id, operation="Client.history")
        return [ev.to_json() for ev in self.journal.history(run_id)]

    def query(
        self,
        namespace: str | None = None,
        *,
        where: Sequence[Any] = (),
        order_by: tuple[str, str] = ("desc", "started_at"),
        limit: int = 50,
        after: str | None = None,
    ) -> Page:
        """One page of runs in ``namespace`` matching ``where`` (see SPEC §4)."""
        _not_in_workflow("query")
        if namespace is not None:
            check_name(namespace, what="the namespace", operation="Client.query")
        if after is not None and not isinstance(after, str):
            raise PayloadError(f"Client.query: after= must be a cursor string, got {after!r:.60}")
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise PayloadError(f"Client.query: limit must be an int, got {limit!r:.60}")
        return self.journal.query(
            namespace=namespace or self.namespace,
            where=list(where),
            order_by=order_by,
            limit=limit,
            after=after,
        )

    def set_attributes(self, run_id: str, attributes: dict[str, Any]) -> None:
        """Merge search attributes into the run (in SQL; not journaled)."""
        _not_in_workflow("set_attributes")
        check_run_id(run_id, operation="Client.set_attributes")
        if not isinstance(attributes, dict):
            raise PayloadError("attributes must be a JSON object (a dict)")
        check_attribute_keys(attributes, operation="Client.set_attributes")
        self.journal.set_attributes(run_id, payloads.encode(attributes, what="attributes"))

    # -- lifecycle --------------------------------------------------------------------
    def close(self) -> None:
        """Release the connection pool (shared with other clients of the same instance)."""
        if self._inst is not None:
            instances.release(self._inst)
            self._inst = None
        self._closed = True

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Client instance={self.instance_name!r} namespace={self.namespace!r}>"
