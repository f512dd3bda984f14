"""The client half of the Postgres journal on psycopg's asyncio connections.

Same statements, same functions as :class:`~continuum.journal.postgres.PostgresJournal`
(run through :func:`~continuum.journal.postgres.green.run_green`), over a
``psycopg_pool.AsyncConnectionPool``: no thread per call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeVar

from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from continuum.engine.events import Event
from continuum.errors import ConfigurationError
from continuum.journal.notices import emit_cancelled
from continuum.journal.postgres import cancel, messages, query, runs, signals, tasks
from continuum.journal.postgres.green import run_green
from continuum.journal.postgres.locks import ParentMoved
from continuum.journal.postgres.statements import Cursor, dumps
from continuum.journal.records import NewRun, TaskFinish, UpdateStatus
from continuum.models import Page, RunInfo

T = TypeVar("T")

_PARENT_MOVED_RETRIES = 20
_CASCADE_LEVELS = 12  # the sync journal's default max_child_depth (10) + 2


class AsyncPostgresJournal:
    """Run creation, reads, signals and cancel over an ``AsyncConnectionPool``."""

    def __init__(self, pool: AsyncConnectionPool[Any], *, instance: str = "default") -> None:
        self.pool = pool
        self.instance = instance
        self.lease_ttl = timedelta(seconds=30)

    async def _run(self, fn: Callable[[Cursor], T]) -> T:
        async with (
            self.pool.connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=dict_row) as cur,
        ):
            return await run_green(fn, cur)

    async def transaction(self, fn: Callable[[Cursor], T]) -> T:
        """Run one of the sync journal's cursor functions in its own transaction."""
        return await self._run(fn)

    async def _run_retrying(self, fn: Callable[[Cursor], T]) -> T:
        for _ in range(_PARENT_MOVED_RETRIES):
            try:
                return await self._run(fn)
            except ParentMoved:
                continue  # rolled back; re-read the parent and retry
        return await self._run(fn)

    async def create_run(self, new: NewRun, *, if_exists: str = "return") -> tuple[RunInfo, bool]:
        """Insert a runnable run (and NOTIFY the dispatchers); ``if_exists`` as the sync
        journal's ``create_run``."""
        info, created, _ = await self._run(
            lambda cur: runs.create_run(cur, new, None, self.lease_ttl, if_exists)
        )
        return info, created

    async def get_run(self, run_id: str) -> RunInfo:
        """The run's record, or ``RunNotFound``."""
        return await self._run(lambda cur: runs.get_run(cur, run_id))

    async def tip(self, run_id: str) -> str:
        """The live end of the ``continue_as_new`` chain containing ``run_id``."""
        return await self._run(lambda cur: runs.tip(cur, run_id))

    async def history(self, run_id: str) -> list[Event]:
        """The run's events in seq order."""
        return await self._run(lambda cur: runs.history(cur, run_id))

    async def set_attributes(self, run_id: str, attributes: dict[str, Any]) -> None:
        """Merge search attributes in SQL."""
        dumps(attributes, what="attributes")
        await self._run(lambda cur: runs.set_attributes(cur, run_id, attributes))

    async def query(
        self,
        *,
        namespace: str | None,
        where: Sequence[Any],
        order_by: Sequence[str],
        limit: int,
        after: str | None,
    ) -> Page:
        """One page of runs (see ``PostgresJournal.query``)."""
        return await self._run(
            lambda cur: query.run_query(
                cur, namespace=namespace, where=where, order_by=order_by, limit=limit, after=after
            )
        )

    async def send_signal(self, run_id: str, name: str, payload: Any) -> str:
        """Deliver to the chain tip's mailbox and wake it; returns the tip's id."""
        text = dumps(payload, what=f"payload of signal {name!r}")
        return await self._run(lambda cur: signals.send_signal(cur, run_id, name, text))

    async def cancel(self, run_id: str, grace: timedelta | None = None) -> RunInfo:
        """Cancel the chain tip and its live descendants (telemetry after the commit);
        cooperatively with ``grace``, as the sync journal does."""
        if grace is not None:
            if grace < timedelta(0):
                raise ConfigurationError(f"cancel grace must not be negative, got {grace}")
            tip, queued = await self._run_retrying(
                lambda cur: messages.request_cancel(cur, run_id, grace, max_levels=_CASCADE_LEVELS)
            )
            if not queued:
                return await self.get_run(tip)
            run_id = tip  # never started: nothing to clean up, cancel at once
        info, cancelled = await self._run_retrying(
            lambda cur: cancel.cancel(
                cur, run_id, max_levels=_CASCADE_LEVELS, instance=self.instance
            )
        )
        emit_cancelled(cancelled, instance=self.instance)
        return info

    async def finish_by_token(
        self,
        task_id: int,
        attempt: int,
        token: int,
        *,
        ok: bool,
        result: Any = None,
        error: dict[str, Any] | None = None,
        final_for: Callable[[str], bool] = lambda _activity: False,
    ) -> TaskFinish:
        """Asynchronous completion, as the sync journal's ``finish_by_token``."""
        return await self._run(
            lambda cur: tasks.finish_by_token(
                cur,
                task_id,
                attempt,
                token,
                ok=ok,
                result=result,
                error=error,
                final_for=final_for,
            )
        )

    # -- events and updates (SPEC §13) ------------------------------------------------
    async def send_update(self, run_id: str, name: str, payload: Any) -> tuple[int, str]:
        """Put an update request in the chain tip's mailbox; ``(update id, run id)``."""
        text = dumps(payload, what=f"payload of update {name!r}")
        return await self._run(lambda cur: messages.send_update(cur, run_id, name, text))

    async def update_status(self, update_id: int) -> UpdateStatus:
        """Where an update request stands."""
        return await self._run(lambda cur: messages.update_status(cur, update_id))

    async def withdraw_update(self, update_id: int) -> bool:
        """Remove an update request nobody accepted."""
        return await self._run(lambda cur: messages.withdraw_update(cur, update_id))

    async def get_event(self, run_id: str, key: str) -> tuple[bool, Any]:
        """``(found, value)`` of an event the run's chain published."""
        return await self._run(
            lambda cur: messages.get_event(cur, messages.chain_of(cur, run_id), key)
        )

    async def events(self, run_id: str) -> dict[str, Any]:
        """Every event the run's chain published, by key."""
        return await self._run(lambda cur: messages.events(cur, messages.chain_of(cur, run_id)))
