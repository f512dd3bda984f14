-- Worker-runtime queries (liveness registry, timer wheel cache, version registry).
-- Loaded by continuum.runtime.queries; each statement is introduced by a name header.

-- name: register_worker
INSERT INTO continuum_workers (id, instance, host, pid, versions)
VALUES (%(id)s, %(instance)s, %(host)s, %(pid)s, %(versions)s)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), versions = EXCLUDED.versions;

-- name: heartbeat_worker
UPDATE continuum_workers SET heartbeat_at = now() WHERE id = %(id)s RETURNING id;

-- name: dead_workers
-- A worker whose heartbeat is older than the grace period is presumed dead. Reaping is
-- idempotent, so two live workers reaping the same corpse at once is harmless.
SELECT id FROM continuum_workers
WHERE heartbeat_at < now() - make_interval(secs => %(grace_s)s)
ORDER BY heartbeat_at;

-- name: delete_dead_workers
-- Re-checks staleness: a worker that heartbeated since it was listed stays registered.
-- The reaper passes only workers whose leases it could all expire; the others stay listed
-- so the next tick retries the rows that were locked.
DELETE FROM continuum_workers
WHERE id IN (
    SELECT id FROM continuum_workers
    WHERE id = ANY(%(ids)s) AND heartbeat_at < now() - make_interval(secs => %(grace_s)s)
    FOR UPDATE SKIP LOCKED
);

-- name: delete_worker
DELETE FROM continuum_workers WHERE id = %(id)s;

-- name: near_timers
-- The timer wheel's cache: unfired timers due within the horizon, as seconds from the
-- database's now() (so the wheel never compares app and DB clocks directly).
SELECT run_id, seq, extract(epoch FROM fire_at - now())::float8 AS due_in_s
FROM continuum_timers
WHERE NOT fired AND fire_at <= now() + make_interval(secs => %(horizon_s)s)
ORDER BY fire_at
LIMIT %(limit)s;

-- name: near_schedules
-- The timer wheel's view of schedules: seconds until the earliest unpaused one that is
-- due within the horizon (NULL: none).
SELECT extract(epoch FROM min(next_fire_at) - now())::float8 AS due_in_s
FROM continuum_schedules
WHERE NOT paused AND next_fire_at <= now() + make_interval(secs => %(horizon_s)s);

-- name: upsert_workflow_version
INSERT INTO continuum_workflow_versions (workflow, version_hash, entrypoint)
VALUES (%(workflow)s, %(version_hash)s, %(entrypoint)s)
ON CONFLICT (workflow, version_hash) DO UPDATE SET registered_at = now();

-- name: wake_backed_off_runs
-- Registering versions at boot: runs of those versions that an incapable node released
-- and backed off (seed v0.6.0: registering a version lets such runs proceed) become due
-- now instead of at the end of their back-off. A back-off is an unleased run's wake-up
-- that no unfired timer explains; waking a run early is harmless anyway (its activation
-- finds nothing to do and suspends again). The window bounds the walk of the runnable
-- index, so a boot does not visit every sleeping run.
UPDATE continuum_runs AS r
SET next_wakeup_at = now(), updated_at = now()
WHERE r.state IN ('running', 'suspended')
  AND r.next_wakeup_at > now()
  AND r.next_wakeup_at <= now() + make_interval(secs => %(within_s)s)
  AND r.lease_token IS NULL
  AND (r.workflow, r.version_hash) IN (
      SELECT * FROM unnest(%(workflows)s::text[], %(hashes)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM continuum_timers tm
      WHERE tm.run_id = r.id AND NOT tm.fired AND tm.fire_at <= r.next_wakeup_at)
RETURNING r.id;

-- name: terminate_backends_of
-- Chaos/bench helper: kill every other session connected to this database.
SELECT count(pg_terminate_backend(pid))
FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND application_name LIKE %(app)s;

-- name: next_task_in
-- Seconds until the next pending activity task becomes due (retry backoff, requeue).
SELECT extract(epoch FROM min(available_at) - now())::float8
FROM continuum_activity_tasks WHERE state = 'pending';

-- name: next_run_in
-- Seconds until the next active run wakes up (timers, release back-off).
-- A run leased right now is not counted: its holder's commit re-announces a pending wake.
SELECT extract(epoch FROM min(next_wakeup_at) - now())::float8
FROM continuum_runs
WHERE state IN ('running', 'suspended') AND (lease_token IS NULL OR lease_expires_at < now());
