-- Named queries of the Postgres journal: schedules (SPEC §14).
-- Any worker fires a due schedule under its row lock (FOR UPDATE SKIP LOCKED); the run
-- of a tick is named '<schedule id>@<tick>', so a tick can never start two runs.

-- name: upsert_schedule
INSERT INTO continuum_schedules AS s
    (id, workflow, version_hash, input, namespace, cron, every, timezone, overlap, catchup,
     queue, priority, anchor, next_fire_at)
VALUES (%(id)s, %(workflow)s, %(version_hash)s, %(input)s::jsonb, %(namespace)s, %(cron)s,
        %(every)s, %(timezone)s, %(overlap)s, %(catchup)s, %(queue)s, %(priority)s,
        %(anchor)s, %(next_fire_at)s)
ON CONFLICT (id) DO UPDATE
SET workflow = EXCLUDED.workflow, version_hash = EXCLUDED.version_hash,
    input = EXCLUDED.input, namespace = EXCLUDED.namespace, cron = EXCLUDED.cron,
    every = EXCLUDED.every, timezone = EXCLUDED.timezone, overlap = EXCLUDED.overlap,
    catchup = EXCLUDED.catchup, queue = EXCLUDED.queue, priority = EXCLUDED.priority,
    anchor = EXCLUDED.anchor, next_fire_at = EXCLUDED.next_fire_at, updated_at = now()
RETURNING s.*, pg_notify('continuum_timer_armed', s.id) AS notified;

-- name: lock_schedule
SELECT * FROM continuum_schedules WHERE id = %s FOR UPDATE;

-- name: set_paused
UPDATE continuum_schedules
SET paused = %(paused)s, next_fire_at = %(next_fire_at)s, updated_at = now()
WHERE id = %(id)s
RETURNING *, pg_notify('continuum_timer_armed', id) AS notified;

-- name: delete_schedule
DELETE FROM continuum_schedules WHERE id = %s RETURNING id;

-- name: list_schedules
SELECT * FROM continuum_schedules ORDER BY id;

-- name: lock_due
-- Schedules locked by another firer are skipped; it is firing them right now.
SELECT * FROM continuum_schedules
WHERE NOT paused AND next_fire_at <= now()
ORDER BY next_fire_at
LIMIT %s
FOR UPDATE SKIP LOCKED;

-- name: fired
UPDATE continuum_schedules
SET next_fire_at = %(next_fire_at)s, last_tick = COALESCE(%(last_tick)s, last_tick),
    last_run_id = COALESCE(%(last_run_id)s, last_run_id), updated_at = now()
WHERE id = %(id)s;

-- name: next_fire_in
-- Seconds until the earliest unpaused schedule is due (negative: due now or overdue).
SELECT extract(epoch FROM min(next_fire_at) - now())::float8 AS due_in_s
FROM continuum_schedules WHERE NOT paused;
