"""The NOTIFY channels the journal's SQL sends on (payloads are ids only, SPEC §6).

Listeners (the worker's signal router, a client waiting for a result) subscribe by these
names; the ``pg_notify`` calls live in the journal's ``.sql`` files and migrations.
"""

from __future__ import annotations

RUN_WAKE = "continuum_run_wake"
TASK_READY = "continuum_task_ready"
TIMER_ARMED = "continuum_timer_armed"
RUN_FINISHED = "continuum_run_finished"
QUEUE_READY = "continuum_queue_ready"
TASK_CANCELLED = "continuum_task_cancelled"
CHANNELS = (RUN_WAKE, TASK_READY, TIMER_ARMED, RUN_FINISHED, QUEUE_READY, TASK_CANCELLED)
"""Every channel a worker listens on."""
