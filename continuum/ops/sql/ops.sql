-- Operator queries: version registry sync, audit, gc, compatibility check, chain archival.
-- "Open" always means state IN ('queued', 'running', 'suspended') (a queued run will run its
-- stamped version too); every time comparison uses now().

-- name: upsert_workflow_version
INSERT INTO continuum_workflow_versions (workflow, version_hash, entrypoint)
VALUES (%(workflow)s, %(version_hash)s, %(entrypoint)s)
ON CONFLICT (workflow, version_hash)
DO UPDATE SET entrypoint = EXCLUDED.entrypoint, registered_at = now();

-- name: registered_versions
SELECT workflow, version_hash, entrypoint, registered_at
FROM continuum_workflow_versions
ORDER BY workflow, registered_at, version_hash;

-- name: open_runs_by_version
SELECT workflow, version_hash, count(*) AS runs,
       (array_agg(id ORDER BY started_at, id))[1:%(sample)s] AS sample_ids
FROM continuum_runs
WHERE state IN ('queued', 'running', 'suspended')
GROUP BY workflow, version_hash
ORDER BY workflow, version_hash;

-- name: live_workers
SELECT id, instance, host, heartbeat_at, versions
FROM continuum_workers
WHERE heartbeat_at > now() - %(live_within)s::interval
ORDER BY id;

-- name: runs_predating_patch
-- Open runs of a workflow that may still take the old branch of patched(%(patch_id)s):
-- on a version without the site, and with no `patched` marker for it in their journal.
SELECT count(*) AS runs,
       coalesce((array_agg(r.id ORDER BY r.started_at, r.id))[1:%(sample)s], '{}') AS sample_ids
FROM continuum_runs r
WHERE r.state IN ('queued', 'running', 'suspended')
  AND r.workflow = %(workflow)s
  AND NOT (r.version_hash = ANY(%(hashes_with_site)s::text[]))
  AND NOT EXISTS (
      SELECT 1 FROM continuum_events e
      WHERE e.run_id = r.id AND e.type = 'patched' AND e.data->>'patch_id' = %(patch_id)s);

-- name: expired_leased_tasks
SELECT id, run_id, activity, attempt, lease_owner, lease_expires_at,
       extract(epoch FROM now() - lease_expires_at)::float8 AS expired_for_s
FROM continuum_activity_tasks
WHERE state = 'leased' AND lease_expires_at < now()
ORDER BY lease_expires_at, id
LIMIT %(limit)s;

-- name: count_expired_leased_tasks
SELECT count(*) FROM continuum_activity_tasks
WHERE state = 'leased' AND lease_expires_at < now();

-- name: database_now
SELECT now();

-- name: pinned_versions
SELECT DISTINCT workflow, version_hash
FROM continuum_runs
WHERE state IN ('queued', 'running', 'suspended');

-- name: delete_workflow_version
-- Re-checks the pin at delete time, so a run that appeared since the plan keeps its row.
DELETE FROM continuum_workflow_versions v
WHERE v.workflow = %(workflow)s AND v.version_hash = %(version_hash)s
  AND NOT EXISTS (
      SELECT 1 FROM continuum_runs r
      WHERE r.workflow = v.workflow AND r.version_hash = v.version_hash
        AND r.state IN ('queued', 'running', 'suspended'))
RETURNING v.workflow;

-- name: open_run_page
SELECT id, workflow, version_hash
FROM continuum_runs
WHERE state IN ('queued', 'running', 'suspended')
  AND (%(workflow)s::text IS NULL OR workflow = %(workflow)s::text)
  AND id > %(after)s
ORDER BY id
LIMIT %(limit)s;

-- name: run_events
SELECT seq, type, command, ref_seq, data
FROM continuum_events
WHERE run_id = %(run_id)s
ORDER BY seq;

-- name: archivable_chain_runs
-- Non-tail members of continue_as_new chains: completed, continued, and expired.
-- The live tip has continued_to_run_id NULL and is never selected.
SELECT r.id, r.workflow, r.correlation_id, r.continued_to_run_id, r.finished_at,
       (SELECT count(*) FROM continuum_events e WHERE e.run_id = r.id) AS events
FROM continuum_runs r
WHERE r.state = 'completed'
  AND r.continued_to_run_id IS NOT NULL
  AND r.finished_at < now() - %(older_than)s::interval
ORDER BY r.finished_at, r.id
LIMIT %(limit)s;

-- name: count_archivable_chain_runs
SELECT count(*)
FROM continuum_runs
WHERE state = 'completed'
  AND continued_to_run_id IS NOT NULL
  AND finished_at < now() - %(older_than)s::interval;

-- name: lock_archivable_chain_batch
-- One batch of expired non-tail chain members, locked for delete_run_batch in the same
-- transaction. Activity results are keyed by idempotency key and shared across runs, so
-- they stay; published events belong to the chain, so they stay too.
SELECT id FROM continuum_runs
WHERE state = 'completed'
  AND continued_to_run_id IS NOT NULL
  AND finished_at < now() - %(older_than)s::interval
ORDER BY finished_at, id
LIMIT %(batch)s
FOR UPDATE SKIP LOCKED;

-- name: purgeable_runs
-- Finished runs whose retention_until has passed (client.start(retention=...)).
SELECT r.id, r.workflow, r.state, r.finished_at, r.retention_until,
       (SELECT count(*) FROM continuum_events e WHERE e.run_id = r.id) AS events
FROM continuum_runs r
WHERE r.retention_until < now() AND r.state IN ('completed', 'failed', 'cancelled')
ORDER BY r.retention_until, r.id
LIMIT %(limit)s;

-- name: count_purgeable_runs
SELECT count(*)
FROM continuum_runs
WHERE retention_until < now() AND state IN ('completed', 'failed', 'cancelled');

-- name: lock_purgeable_batch
-- One batch of expired finished runs, locked for delete_run_batch in the same transaction
-- (activity results are shared by idempotency key: they stay).
SELECT id FROM continuum_runs
WHERE retention_until < now() AND state IN ('completed', 'failed', 'cancelled')
ORDER BY retention_until, id
LIMIT %(batch)s
FOR UPDATE SKIP LOCKED;

-- name: delete_run_batch
-- Delete the runs %(ids)s (locked by this transaction) with every row that belongs to
-- them alone. Published events go too only when %(run_events)s (a purged run's; a chain
-- member's stay with the chain). Each count column is what went from that table.
WITH doomed AS (
    SELECT unnest(%(ids)s::text[]) AS id
), events AS (
    DELETE FROM continuum_events e USING doomed d WHERE e.run_id = d.id RETURNING 1
), signals AS (
    DELETE FROM continuum_signals s USING doomed d WHERE s.run_id = d.id RETURNING 1
), timers AS (
    DELETE FROM continuum_timers t USING doomed d WHERE t.run_id = d.id RETURNING 1
), tasks AS (
    DELETE FROM continuum_activity_tasks t USING doomed d WHERE t.run_id = d.id RETURNING 1
), idempotency_claims AS (
    -- A claim names the task attempt that held it; with the task gone it guards nothing.
    DELETE FROM continuum_idempotency_claims c
    USING continuum_activity_tasks t, doomed d
    WHERE c.task_id = t.id AND t.run_id = d.id
    RETURNING 1
), snapshots AS (
    DELETE FROM continuum_snapshots s USING doomed d WHERE s.run_id = d.id RETURNING 1
), updates AS (
    DELETE FROM continuum_updates u USING doomed d WHERE u.run_id = d.id RETURNING 1
), run_events AS (
    DELETE FROM continuum_run_events v USING doomed d
    WHERE v.run_id = d.id AND %(run_events)s
    RETURNING 1
), runs AS (
    DELETE FROM continuum_runs r USING doomed d WHERE r.id = d.id RETURNING r.id
)
SELECT coalesce((SELECT array_agg(id ORDER BY id) FROM runs), '{}') AS run_ids,
       (SELECT count(*) FROM events) AS events,
       (SELECT count(*) FROM signals) AS signals,
       (SELECT count(*) FROM timers) AS timers,
       (SELECT count(*) FROM tasks) AS tasks,
       (SELECT count(*) FROM snapshots) AS snapshots,
       (SELECT count(*) FROM updates) AS updates,
       (SELECT count(*) FROM run_events) AS run_events,
       (SELECT count(*) FROM idempotency_claims) AS idempotency_claims;
