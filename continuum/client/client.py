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

from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any

from continuum import instance as instances
from continuum.client import requests
from continuum.client.base import not_in_workflow
from continuum.client.completion import finish_by_token
from continuum.client.messages import MessagesMixin
from continuum.client.queues import QueueMixin
from continuum.client.schedules import ScheduleMixin
from continuum.client.waiting import wait_for_terminal
from continuum.db.dsn import validate_dsn
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.errors import ConfigurationError, PayloadError
from continuum.journal.postgres import PostgresJournal
from continuum.models import Page, RunInfo
from continuum.validation import check_name, check_run_id

_not_in_workflow = not_in_workflow

IF_EXISTS = requests.IF_EXISTS


class Client(ScheduleMixin, QueueMixin, MessagesMixin):
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
        retention: timedelta | None = None,
    ) -> str:
        """Start a run of ``flow``; idempotent on ``id`` (the same id is returned).

        The run is stamped with ``flow.version_hash``; a worker that has that version
        picks it up. Raises ``PayloadError`` (before touching the database) when the
        input or attributes are not JSON, or the input does not fit the workflow's type.
        With ``queue=`` the run is ``queued`` until the queue's limits let it start
        (lower ``priority`` first). ``if_exists`` says what an existing ``id`` does:
        ``"return"`` its id, ``"error"`` (``RunAlreadyExists``), or ``"restart_failed"``
        (a failed or cancelled run starts again from scratch under that id).
        ``retention`` (e.g. ``continuum.days(30)``) is how long the run is kept once it
        finishes (``retention_until``; see ``continuum runs purge``); it defaults to the
        workflow's ``retention=``, else the run is kept until deleted.
        """
        _not_in_workflow("start")
        new = requests.new_run(
            self.versions,
            flow,
            input,
            id=id,
            namespace=self.namespace if namespace is None else namespace,
            attributes=attributes,
            retention=retention,
            queue=queue,
            priority=priority,
            if_exists=if_exists,
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
        encoded = requests.signal_payload(name, payload)
        self.journal.send_signal(run_id, name, encoded)

    def cancel(self, run_id: str, grace: timedelta | float | None = None) -> RunInfo:
        """Cancel the run (its chain's tip) and its live descendants; terminal ``cancelled``.

        Without ``grace`` the cancel is immediate. With ``grace`` (a timedelta or
        seconds) it is cooperative: ``continuum.Cancelled`` is raised inside each run of
        the tree at its current or next wait, cleanup in ``except``/``finally`` runs, and
        the run ends ``cancelled`` when the workflow returns or re-raises — or is
        hard-cancelled once ``grace`` has passed. The returned record is the state right
        after the request (still ``running``/``suspended`` for a cooperative cancel).
        """
        _not_in_workflow("cancel")
        check_run_id(run_id, operation="Client.cancel")
        if grace is None:
            return self.journal.cancel(run_id)
        delta = grace if isinstance(grace, timedelta) else timedelta(seconds=grace)
        return self.journal.cancel(run_id, delta)

    def result(self, run_id: str, timeout: float | None = None) -> Any:
        """Wait for the chain's final result and return it (decoded when the flow is known).

        Raises ``RunFailed``, ``RunCancelled``, or ``ResultTimeout`` (a ``TimeoutError``)
        when ``timeout`` seconds pass first. Wakes on ``continuum_run_finished`` with a
        poll fallback.
        """
        _not_in_workflow("result")
        check_run_id(run_id, operation="Client.result")
        info = wait_for_terminal(self.journal, self.dsn, run_id, timeout)
        return requests.outcome(info)

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
        self.journal.set_attributes(run_id, requests.attributes_payload(attributes))

    # -- activities -------------------------------------------------------------------
    def complete_activity(self, task_token: str, result: Any = None) -> None:
        """Complete an attempt that returned ``continuum.complete_later()`` with ``result``.

        ``task_token`` is the attempt's ``continuum.activity_info().task_token``. Fenced
        like a worker's completion: a token whose attempt is no longer current raises
        ``StaleTaskToken`` and writes nothing; a malformed one raises ``TaskTokenError``;
        a non-JSON result raises ``PayloadError`` before anything is written.
        """
        _not_in_workflow("complete_activity")
        finish_by_token(
            self.journal, task_token, ok=True, result=result, operation="complete_activity"
        )

    def fail_activity(self, task_token: str, error: BaseException | str | dict[str, Any]) -> None:
        """Fail an attempt that returned ``continuum.complete_later()``.

        ``error`` is an exception (its type is recorded, so the workflow can branch on
        ``ActivityFailed.error_type``), a message, or ``{"type": ..., "message": ...}``.
        The activity's retry policy applies: with attempts left, the task is retried.
        Stale and malformed tokens raise as in :meth:`complete_activity`.
        """
        _not_in_workflow("fail_activity")
        finish_by_token(self.journal, task_token, ok=False, error=error, operation="fail_activity")

    # -- lifecycle --------------------------------------------------------------------
    def close(self) -> None:
        """Release the connection pool (shared with other clients of the same instance)."""
        self._stop_listening()
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
