"""``continuum.AsyncClient``: the :class:`~continuum.Client` API for asyncio (SPEC §4).

>>> async with continuum.AsyncClient() as client:
...     run_id = await client.start(order_flow, order, id="order-42")
...     await client.signal(run_id, "fraud_review", "approved")
...     receipt = await client.result(run_id, timeout=30)

Every method is a coroutine on psycopg's asyncio connections (a
``psycopg_pool.AsyncConnectionPool``); ``result()`` waits on one shared LISTEN
connection, so thousands of concurrent waiters need no thread each. Inputs are checked
and encoded exactly as ``Client`` does (``continuum.client.requests``), before any I/O.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeVar

from psycopg_pool import AsyncConnectionPool

from continuum import payloads
from continuum.client import completion, requests
from continuum.client.answers import answer_of, settled
from continuum.client.async_features import AsyncFeaturesMixin
from continuum.client.async_waiting import (
    RUN_FINISHED,
    FinishListener,
    wait_for_terminal,
    wait_until,
)
from continuum.db.config import DatabaseConfig
from continuum.db.connection import unavailable
from continuum.db.dsn import validate_dsn
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.errors import ConfigurationError, UpdateTimeout
from continuum.instance import ensure_schema, uses_embedded
from continuum.journal.postgres.async_journal import AsyncPostgresJournal
from continuum.journal.postgres.messages import EVENT_SET, UPDATE_ANSWERED
from continuum.journal.records import UpdateStatus
from continuum.models import TERMINAL_STATES, Page, RunInfo
from continuum.validation import check_name, check_run_id

_NAME = "AsyncClient"
T = TypeVar("T")


def _not_in_workflow(operation: str) -> None:
    requests.not_in_workflow(operation, _NAME)


class AsyncClient(AsyncFeaturesMixin):
    """An asyncio connection to one Continuum database; use one per event loop.

    ``dsn=None`` resolves ``$CONTINUUM_DATABASE_URL``, else the embedded server (migrated
    automatically). An explicit database must be migrated (``continuum migrate``).
    Nothing connects until ``async with`` (or the first call).
    """

    def __init__(
        self,
        dsn: str | None = None,
        *,
        namespace: str = "default",
        instance: str = "default",
        versions: VersionRegistry | None = None,
        pool_max_size: int = 10,
    ) -> None:
        if dsn:
            validate_dsn(dsn)
        check_name(namespace, what="the namespace", operation="AsyncClient()")
        self._dsn = dsn
        self.namespace = namespace
        self.instance_name = instance
        self._versions = versions
        self._pool_max_size = pool_max_size
        self._pool: AsyncConnectionPool[Any] | None = None
        self._journal: AsyncPostgresJournal | None = None
        self._listener: FinishListener | None = None
        self._opening: asyncio.Lock | None = None
        self._closed = False
        self._resolved: str | None = None

    @property
    def versions(self) -> VersionRegistry:
        """The build manifest's versions (found from CWD's pyproject; empty if unbuilt)."""
        if self._versions is None:
            self._versions = VersionRegistry.discover()
        return self._versions

    @property
    def dsn(self) -> str | None:
        """The resolved DSN once open (``None`` before)."""
        return self._resolved

    # -- plumbing ---------------------------------------------------------------------
    async def open(self) -> None:
        """Resolve the database, check its schema, open the pool and the LISTEN connection."""
        if self._closed:
            raise ConfigurationError(f"this {_NAME} is closed; create a new one")
        if self._journal is not None:
            return
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._journal is not None:
                return
            embedded = uses_embedded(self._dsn)
            # One-off blocking setup (may start the embedded server): off the event loop.
            dsn = await asyncio.to_thread(DatabaseConfig(dsn=self._dsn).resolved_dsn)
            await asyncio.to_thread(ensure_schema, dsn, migrate_if_missing=embedded)
            pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
                dsn,
                min_size=1,
                max_size=self._pool_max_size,
                kwargs={"application_name": f"continuum:{self.instance_name}:async"},
                open=False,
            )
            try:
                await pool.open(wait=True, timeout=10.0)
            except Exception as exc:
                await pool.close()
                raise unavailable(dsn, exc) from None
            listener = FinishListener(dsn)
            await listener.start()
            self._pool, self._listener, self._resolved = pool, listener, dsn
            self._journal = AsyncPostgresJournal(pool, instance=self.instance_name)

    async def _journal_open(self) -> AsyncPostgresJournal:
        await self.open()
        assert self._journal is not None
        return self._journal

    # -- runs -------------------------------------------------------------------------
    async def start(
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
        """Start a run of ``flow``; idempotent on ``id`` (see ``Client.start``)."""
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
            client=_NAME,
        )
        info, _created = await (await self._journal_open()).create_run(new, if_exists=if_exists)
        return info.id

    async def signal(self, run_id: str, name: str, payload: Any = None) -> None:
        """Deliver signal ``name`` to the run; ``RunNotFound`` / ``RunTerminal``."""
        _not_in_workflow("signal")
        check_run_id(run_id, operation=f"{_NAME}.signal")
        encoded = requests.signal_payload(name, payload, _NAME)
        await (await self._journal_open()).send_signal(run_id, name, encoded)

    async def cancel(self, run_id: str, grace: timedelta | float | None = None) -> RunInfo:
        """Cancel the run (its chain's tip) and its live descendants; with ``grace``
        cooperatively, as ``Client.cancel``."""
        _not_in_workflow("cancel")
        check_run_id(run_id, operation=f"{_NAME}.cancel")
        journal = await self._journal_open()
        if grace is None:
            return await journal.cancel(run_id)
        delta = grace if isinstance(grace, timedelta) else timedelta(seconds=grace)
        return await journal.cancel(run_id, delta)

    async def get_event(self, run_id: str, key: str, timeout: float | None = None) -> Any:
        """``Client.get_event`` on asyncio: waits (LISTEN, with a poll backstop) until the
        key is set; ``UpdateTimeout`` after ``timeout`` seconds."""
        _not_in_workflow("get_event")
        check_run_id(run_id, operation=f"{_NAME}.get_event")
        check_name(key, what="the event key", operation=f"{_NAME}.get_event")
        journal = await self._journal_open()
        chain = (await journal.get_run(run_id)).correlation_id or run_id

        async def check() -> tuple[bool, Any] | None:
            found = await journal.get_event(run_id, key)
            return found if found[0] else None

        got = await wait_until(self._listening(), [(EVENT_SET, chain)], check, timeout)
        if got is None:
            raise UpdateTimeout(
                f"run {run_id!r} did not set event {key!r} within {timeout:g}s "
                f"({_NAME}.get_event); check `continuum runs events` for what it published"
            )
        return got[1]

    async def events(self, run_id: str) -> dict[str, Any]:
        """Every event the run's chain published, by key."""
        _not_in_workflow("events")
        check_run_id(run_id, operation=f"{_NAME}.events")
        return await (await self._journal_open()).events(run_id)

    async def update(
        self,
        run_id: str,
        name: str,
        payload: Any = None,
        timeout: float | None = None,
        *,
        type: Any = None,
    ) -> Any:
        """``Client.update`` on asyncio: the reply, or ``UpdateRejected`` /
        ``RunTerminal`` / ``UpdateTimeout`` (the answer is awaited on LISTEN)."""
        _not_in_workflow("update")
        check_run_id(run_id, operation=f"{_NAME}.update")
        check_name(name, what="the update name", operation=f"{_NAME}.update")
        encoded = payloads.encode(payload, what=f"payload of update {name!r}")
        journal = await self._journal_open()
        update_id, tip = await journal.send_update(run_id, name, encoded)
        wants = [(UPDATE_ANSWERED, str(update_id)), (RUN_FINISHED, tip)]

        async def check() -> UpdateStatus | None:
            status = await journal.update_status(update_id)
            return status if settled(status) else None

        status = await wait_until(self._listening(), wants, check, timeout)
        status = status or await journal.update_status(update_id)
        withdrawn = False
        if status.status is None and status.run_state not in TERMINAL_STATES:
            withdrawn = await journal.withdraw_update(update_id)
        return answer_of(status, name, type, _Withdrawn(withdrawn))

    def _listening(self) -> FinishListener:
        assert self._listener is not None, "open() starts the listener"
        return self._listener

    async def result(self, run_id: str, timeout: float | None = None) -> Any:
        """Wait for the chain's final result; ``RunFailed``, ``RunCancelled``,
        ``ResultTimeout`` (a ``TimeoutError``) as ``Client.result``."""
        _not_in_workflow("result")
        check_run_id(run_id, operation=f"{_NAME}.result")
        journal = await self._journal_open()
        assert self._listener is not None
        info = await wait_for_terminal(journal, self._listener, run_id, timeout)
        return requests.outcome(info)

    async def get_run(self, run_id: str) -> RunInfo:
        """The run's record (``RunNotFound`` for an unknown id)."""
        _not_in_workflow("get_run")
        check_run_id(run_id, operation=f"{_NAME}.get_run")
        return await (await self._journal_open()).get_run(run_id)

    async def history(self, run_id: str) -> list[dict[str, Any]]:
        """The run's journal as JSON-ready dicts."""
        _not_in_workflow("history")
        check_run_id(run_id, operation=f"{_NAME}.history")
        return [ev.to_json() for ev in await (await self._journal_open()).history(run_id)]

    async def query(
        self,
        namespace: str | None = None,
        *,
        where: Sequence[Any] = (),
        order_by: tuple[str, str] = ("desc", "started_at"),
        limit: int = 50,
        after: str | None = None,
    ) -> Page:
        """One page of runs (see ``Client.query``)."""
        _not_in_workflow("query")
        if namespace is not None:
            check_name(namespace, what="the namespace", operation=f"{_NAME}.query")
        return await (await self._journal_open()).query(
            namespace=namespace or self.namespace,
            where=list(where),
            order_by=order_by,
            limit=limit,
            after=after,
        )

    async def set_attributes(self, run_id: str, attributes: dict[str, Any]) -> None:
        """Merge search attributes into the run (in SQL; not journaled)."""
        _not_in_workflow("set_attributes")
        check_run_id(run_id, operation=f"{_NAME}.set_attributes")
        encoded = requests.attributes_payload(attributes, _NAME)
        await (await self._journal_open()).set_attributes(run_id, encoded)

    # -- lifecycle --------------------------------------------------------------------
    async def complete_activity(self, task_token: str, result: Any = None) -> None:
        """Complete an attempt that returned ``continuum.complete_later()`` (as
        ``Client.complete_activity``: fenced, ``StaleTaskToken`` / ``TaskTokenError``)."""
        await self._finish_activity("complete_activity", task_token, ok=True, result=result)

    async def fail_activity(
        self, task_token: str, error: BaseException | str | dict[str, Any]
    ) -> None:
        """Fail an attempt that returned ``continuum.complete_later()`` (as
        ``Client.fail_activity``: the retry policy applies)."""
        await self._finish_activity("fail_activity", task_token, ok=False, error=error)

    async def _finish_activity(
        self, operation: str, token: str, *, ok: bool, result: Any = None, error: object = None
    ) -> None:
        _not_in_workflow(operation)
        what = f"{_NAME}.{operation}"
        c = completion.prepare(token, ok=ok, result=result, error=error, operation=what)
        finish = await (await self._journal_open()).finish_by_token(
            c.task_id,
            c.attempt,
            c.lease_token,
            ok=c.ok,
            result=c.result,
            error=c.error,
            final_for=c.is_final,
        )
        completion.check_finished(finish, token, what)

    async def close(self) -> None:
        """Close the LISTEN connection and the pool."""
        self._closed = True
        listener, pool = self._listener, self._pool
        self._listener = self._pool = self._journal = None
        if listener is not None:
            await listener.close()
        if pool is not None:
            await pool.close()

    async def __aenter__(self) -> AsyncClient:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"<AsyncClient instance={self.instance_name!r} namespace={self.namespace!r}>"


class _Withdrawn:
    """``answer_of``'s withdraw hook once the async caller already tried to withdraw."""

    def __init__(self, withdrawn: bool) -> None:
        self.withdrawn = withdrawn

    def withdraw_update(self, update_id: int) -> bool:
        return self.withdrawn
