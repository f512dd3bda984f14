"""``Client`` schedules (SPEC §14): upsert, pause/resume, trigger, delete, list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from continuum.client.base import ClientBase, check_flow, not_in_workflow
from continuum.client.queues import check_queue
from continuum.definitions.schedules import ScheduleSpec, check_overlap
from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.errors import ConfigurationError
from continuum.journal.postgres import schedules as ops
from continuum.models import ScheduleInfo
from continuum.validation import check_name


def _check_id(schedule_id: Any, operation: str, client: str = "Client") -> str:
    if not isinstance(schedule_id, str) or not schedule_id or "@" in schedule_id:
        raise ConfigurationError(
            f"{client}.{operation}: a schedule id must be a non-empty string without '@' "
            f"(run ids are '<schedule id>@<tick>'), got {schedule_id!r}"
        )
    return check_name(schedule_id, what="the schedule id", operation=f"{client}.{operation}")


def schedule_def(
    versions: VersionRegistry,
    namespace: str,
    id: str,
    flow: Workflow[Any, Any],
    input: Any,
    *,
    cron: str | None,
    every: timedelta | None,
    timezone: str,
    overlap: str,
    catchup: timedelta | None,
    queue: str | None,
    priority: int,
    client: str = "Client",
) -> ops.ScheduleDef:
    """Check a ``schedule()`` call and encode it, before any I/O (both clients)."""
    _check_id(id, "schedule", client)
    flow = check_flow(flow, "schedule", client)
    spec = ScheduleSpec(cron=cron, every=every, timezone=timezone)
    check_overlap(overlap)
    if catchup is not None and (not isinstance(catchup, timedelta) or catchup <= timedelta(0)):
        raise ConfigurationError(
            f"{client}.schedule: catchup={catchup!r} must be a positive timedelta or None"
        )
    check_queue(queue, priority, "schedule", client)
    flow = versions.for_start(flow)
    encoded = flow.encode_input(input)
    flow.decode_input(encoded)
    return ops.ScheduleDef(
        id=id,
        workflow=flow.name,
        version_hash=flow.version_hash,
        input=encoded,
        spec=spec,
        namespace=namespace,
        overlap=overlap,
        catchup=catchup,
        queue=queue,
        priority=priority,
    )


def check_schedule_id(id: str, operation: str, client: str = "Client") -> None:
    """The id argument of pause/resume/trigger/unschedule."""
    check_name(id, what="the schedule id", operation=f"{client}.{operation}")


class ScheduleMixin(ClientBase):
    """Schedules: any running worker starts one run per tick."""

    def schedule(
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
        """Create or replace (by ``id``) a schedule of ``flow`` with ``input``.

        ``cron`` is a 5-field expression read in ``timezone`` (DST aware); ``every`` a
        fixed interval of whole seconds. Each tick starts the run
        ``f"{id}@{tick:%Y-%m-%dT%H:%M:%SZ}"`` (UTC). ``overlap="skip"`` starts nothing
        while the previous run is open; after downtime only the latest missed tick
        starts, unless ``catchup`` asks for every tick within that window.
        """
        not_in_workflow("schedule")
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
        )
        return self.journal.transaction(lambda cur: ops.upsert(cur, sched))

    def pause_schedule(self, id: str) -> ScheduleInfo:
        """Stop firing the schedule until :meth:`resume_schedule` (``ScheduleNotFound``)."""
        not_in_workflow("pause_schedule")
        check_schedule_id(id, "pause_schedule")
        return self.journal.transaction(lambda cur: ops.set_paused(cur, id, True))

    def resume_schedule(self, id: str) -> ScheduleInfo:
        """Fire again from the next tick after now (ticks missed while paused are skipped)."""
        not_in_workflow("resume_schedule")
        check_schedule_id(id, "resume_schedule")
        return self.journal.transaction(lambda cur: ops.set_paused(cur, id, False))

    def trigger_schedule(self, id: str) -> str:
        """Start the schedule's run for the current second now; returns its run id."""
        not_in_workflow("trigger_schedule")
        check_schedule_id(id, "trigger_schedule")
        return self.journal.transaction(lambda cur: ops.trigger(cur, id, self.current_version))

    def unschedule(self, id: str) -> None:
        """Delete the schedule (its runs are untouched)."""
        not_in_workflow("unschedule")
        check_schedule_id(id, "unschedule")
        self.journal.transaction(lambda cur: ops.delete(cur, id))

    def schedules(self) -> list[ScheduleInfo]:
        """Every schedule of the database, by id."""
        not_in_workflow("schedules")
        return self.journal.transaction(ops.list_all)
