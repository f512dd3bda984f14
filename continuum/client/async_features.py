"""``AsyncClient`` schedules (SPEC §14), queues (§15) and fork (§16).

The same checks and statements as :class:`~continuum.Client`'s mixins
(``continuum.client.schedules`` / ``queues``), awaited on the asyncio journal.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from continuum.client import requests
from continuum.client.base import current_version
from continuum.client.queues import check_limits, fork_id
from continuum.client.schedules import check_schedule_id, schedule_def
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.journal.postgres import fork as fork_ops
from continuum.journal.postgres import queues as queue_ops
from continuum.journal.postgres import schedules as schedule_ops
from continuum.journal.postgres.async_journal import AsyncPostgresJournal
from continuum.models import QueueInfo, ScheduleInfo

_NAME = "AsyncClient"


def _not_in_workflow(operation: str) -> None:
    requests.not_in_workflow(operation, _NAME)


class AsyncFeaturesMixin:
    """Declares what it needs from ``AsyncClient``; adds the feature methods."""

    namespace: str

    @property
    def versions(self) -> VersionRegistry:
        raise NotImplementedError

    async def _journal_open(self) -> AsyncPostgresJournal:
        raise NotImplementedError

    # -- schedules --------------------------------------------------------------------
    async def schedule(
        self,
        id: str,
        flow: Workflow[Any, Any],
        input: Any = None,
        *,
        cron: str | None = None,
        every: timedelta | None = None,
        timezone: str = "UTC",
        overlap: str = "skip",
        catchup: timedelta | None = None,
        namespace: str | None = None,
        queue: str | None = None,
        priority: int = 0,
    ) -> ScheduleInfo:
        """Create or replace (by ``id``) a schedule of ``flow`` (see ``Client.schedule``)."""
        _not_in_workflow("schedule")
        sched = schedule_def(
            self.versions,
            namespace or self.namespace,
            id,
            flow,
            input,
            cron=cron,
            every=every,
            timezone=timezone,
            overlap=overlap,
            catchup=catchup,
            queue=queue,
            priority=priority,
            client=_NAME,
        )
        journal = await self._journal_open()
        return await journal.transaction(lambda cur: schedule_ops.upsert(cur, sched))

    async def pause_schedule(self, id: str) -> ScheduleInfo:
        """Stop firing the schedule until :meth:`resume_schedule` (``ScheduleNotFound``)."""
        _not_in_workflow("pause_schedule")
        check_schedule_id(id, "pause_schedule", _NAME)
        journal = await self._journal_open()
        return await journal.transaction(lambda cur: schedule_ops.set_paused(cur, id, True))

    async def resume_schedule(self, id: str) -> ScheduleInfo:
        """Fire again from the next tick after now (ticks missed while paused are skipped)."""
        _not_in_workflow("resume_schedule")
        check_schedule_id(id, "resume_schedule", _NAME)
        journal = await self._journal_open()
        return await journal.transaction(lambda cur: schedule_ops.set_paused(cur, id, False))

    async def trigger_schedule(self, id: str) -> str:
        """Start the schedule's run for the current second now; returns its run id."""
        _not_in_workflow("trigger_schedule")
        check_schedule_id(id, "trigger_schedule", _NAME)
        journal = await self._journal_open()
        versions = self.versions
        return await journal.transaction(
            lambda cur: schedule_ops.trigger(cur, id, lambda wf: current_version(versions, wf))
        )

    async def unschedule(self, id: str) -> None:
        """Delete the schedule (its runs are untouched)."""
        _not_in_workflow("unschedule")
        check_schedule_id(id, "unschedule", _NAME)
        journal = await self._journal_open()
        await journal.transaction(lambda cur: schedule_ops.delete(cur, id))

    async def schedules(self) -> list[ScheduleInfo]:
        """Every schedule of the database, by id."""
        _not_in_workflow("schedules")
        return await (await self._journal_open()).transaction(schedule_ops.list_all)

    # -- queues and fork --------------------------------------------------------------
    async def configure_queue(
        self,
        name: str,
        *,
        concurrency: int | None = None,
        rate_limit: tuple[int, timedelta] | None = None,
    ) -> None:
        """Store the limits of queue ``name`` (see ``Client.configure_queue``)."""
        _not_in_workflow("configure_queue")
        check_limits(name, concurrency, rate_limit, _NAME)
        journal = await self._journal_open()
        await journal.transaction(
            lambda cur: queue_ops.configure(cur, name, concurrency, rate_limit)
        )

    async def queues(self) -> list[QueueInfo]:
        """Every queue with its limits and running/queued counts."""
        _not_in_workflow("queues")
        return await (await self._journal_open()).transaction(queue_ops.list_queues)

    async def fork(self, run_id: str, at_seq: int | None = None, id: str | None = None) -> str:
        """Start a new run from a copy of ``run_id``'s journal up to ``at_seq`` (see
        ``Client.fork``); returns its id."""
        _not_in_workflow("fork")
        new_id = fork_id(run_id, at_seq, id, _NAME)
        journal = await self._journal_open()
        source = await journal.get_run(run_id)
        version = current_version(self.versions, source.workflow) or source.version_hash
        return await journal.transaction(
            lambda cur: fork_ops.fork(cur, run_id, at_seq, new_id, version)
        )
