-- Named queries of the Postgres journal: cancellation, generation by generation.

-- name: chain_hop
-- Unlocked read used to find the tip's parent before taking any lock (parent first).
SELECT id, state, continued_to_run_id, parent_run_id FROM continuum_runs WHERE id = %s;

-- name: lock_live_children
-- One generation of the cascade, locked parent-before-child and in id order, so two
-- cascades and a concurrent commit (which locks its parent first) cannot deadlock.
SELECT id FROM continuum_runs
WHERE parent_run_id = ANY(%s) AND state IN ('queued', 'running', 'suspended')
ORDER BY id
FOR UPDATE;

-- name: cancel_runs
-- Clearing the lease fences any in-flight activation of these runs.
WITH cancelled AS (
    UPDATE continuum_runs
    SET state = 'cancelled',
        cancel_requested_at = COALESCE(cancel_requested_at, now()),
        last_seq = last_seq + 1,
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
        next_wakeup_at = NULL,
        finished_at = now(),
        updated_at = now()
    WHERE id = ANY(%(ids)s) AND state IN ('queued', 'running', 'suspended')
    RETURNING id, last_seq
),
events AS (
    INSERT INTO continuum_events (run_id, seq, type, data)
    SELECT id, last_seq, 'run_cancelled', '{}'::jsonb FROM cancelled
),
tasks AS (
    -- Workers running a discarded task's attempt hear of it at once (they cancel it).
    UPDATE continuum_activity_tasks
    SET state = 'discarded', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
        updated_at = now()
    WHERE run_id IN (SELECT id FROM cancelled) AND state IN ('pending', 'leased')
    RETURNING id, pg_notify('continuum_task_cancelled', id::text)
),
timers AS (
    UPDATE continuum_timers SET fired = true
    WHERE run_id IN (SELECT id FROM cancelled) AND NOT fired
)
SELECT id, pg_notify('continuum_run_finished', id) FROM cancelled;

-- name: has_live_children
SELECT EXISTS (
    SELECT 1 FROM continuum_runs
    WHERE parent_run_id = ANY(%s) AND state IN ('queued', 'running', 'suspended')
) AS present;

-- name: set_last_seq
UPDATE continuum_runs SET last_seq = %s WHERE id = %s;
