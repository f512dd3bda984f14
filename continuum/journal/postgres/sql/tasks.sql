-- Named queries of the Postgres journal: activity task leases.
-- Every finishing write is fenced by the task's id, lease token, attempt and state.

-- name: claim_tasks
-- The attempt counter moves at claim time, so a crashed attempt counts (seed v0.6.0).
UPDATE continuum_activity_tasks AS t
SET state = 'leased',
    attempt = t.attempt + 1,
    lease_owner = %(owner)s,
    lease_token = nextval('continuum_lease_token_seq'),
    lease_expires_at = now() + %(ttl)s::interval,
    updated_at = now()
FROM (
    SELECT id FROM continuum_activity_tasks
    WHERE state = 'pending' AND available_at <= now()
    ORDER BY available_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
) AS due
WHERE t.id = due.id
RETURNING t.id, t.run_id, t.command_seq, t.kind, t.activity, t.args, t.idempotency_key,
          t.attempt, t.max_attempts, t.timeout_ms, t.lease_token, t.lease_owner,
          now() AS claimed_at,
          (SELECT r.trace_context FROM continuum_runs r WHERE r.id = t.run_id) AS trace_context;

-- name: unclaim_task
-- A lease handed to a worker that stopped before starting the attempt: back to pending
-- and the attempt is not counted (it never ran). Fenced like every task write.
UPDATE continuum_activity_tasks
SET state = 'pending', attempt = attempt - 1, available_at = now(),
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
WHERE id = %(id)s AND lease_token = %(token)s AND attempt = %(attempt)s AND state = 'leased'
RETURNING run_id;

-- name: heartbeat_task
UPDATE continuum_activity_tasks
SET lease_expires_at = now() + %(ttl)s::interval, updated_at = now()
WHERE id = %(id)s AND lease_token = %(token)s AND attempt = %(attempt)s AND state = 'leased'
RETURNING id;

-- name: lock_task_run
-- Run row before task row: the same order as commit_activation and cancel, so a
-- finishing task cannot deadlock with a commit that marks tasks journaled or discarded.
SELECT r.id FROM continuum_runs r
WHERE r.id = (SELECT run_id FROM continuum_activity_tasks WHERE id = %s)
FOR UPDATE;

-- name: complete_task
UPDATE continuum_activity_tasks
SET state = 'completed', result = %(result)s::jsonb,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
WHERE id = %(id)s AND lease_token = %(token)s AND attempt = %(attempt)s AND state = 'leased'
RETURNING run_id, activity, idempotency_key;

-- name: fail_task
-- Retry or give up; the backoff is computed here, on the database clock, from the
-- task's own policy: initial_ms * factor^(attempt-1), capped at max_ms.
UPDATE continuum_activity_tasks
SET state = CASE WHEN attempt < max_attempts THEN 'pending' ELSE 'failed' END,
    error = %(error)s::jsonb,
    available_at = CASE WHEN attempt < max_attempts THEN now() + LEAST(
        COALESCE((backoff->>'initial_ms')::float8, 1000)
            * power(COALESCE((backoff->>'factor')::float8, 2.0), GREATEST(attempt - 1, 0)),
        COALESCE((backoff->>'max_ms')::float8, 300000)) * interval '1 millisecond'
        ELSE available_at END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
WHERE id = %(id)s AND lease_token = %(token)s AND attempt = %(attempt)s AND state = 'leased'
RETURNING run_id, state, available_at;

-- name: upsert_activity_result
INSERT INTO continuum_activity_results (activity, idempotency_key, result)
VALUES (%s, %s, %s::jsonb)
ON CONFLICT (activity, idempotency_key) DO NOTHING;

-- name: idempotent_result
SELECT result FROM continuum_activity_results WHERE activity = %s AND idempotency_key = %s;

-- name: lock_runs_of_expired_tasks
-- Runs first (same lock order as everywhere); a run busy committing is skipped this round.
SELECT r.id FROM continuum_runs r
WHERE r.id IN (
    SELECT run_id FROM continuum_activity_tasks
    WHERE state = 'leased' AND lease_expires_at < now()
)
ORDER BY r.id
FOR UPDATE SKIP LOCKED;

-- name: requeue_expired_tasks
-- A lost attempt counts: back to pending with backoff while attempts remain, else failed.
UPDATE continuum_activity_tasks
SET state = CASE WHEN attempt < max_attempts THEN 'pending' ELSE 'failed' END,
    error = CASE WHEN attempt < max_attempts
        THEN jsonb_build_object(
            'type', 'LeaseExpired',
            'message', format('activity %%s attempt %%s of %%s was lost: its worker stopped '
                              'heartbeating the task lease', activity, attempt, max_attempts),
            'code', 'lease_expired')
        ELSE jsonb_build_object(
            'type', 'AttemptsExhausted',
            'message', format('activity %%s attempt %%s of %%s was lost (worker crashed or lease '
                              'expired) and no attempts remain: attempts_exhausted; raise '
                              'max_attempts and add an idempotency key for crash-resilient '
                              'activities', activity, attempt, max_attempts),
            'code', 'attempts_exhausted')
        END,
    available_at = CASE WHEN attempt < max_attempts THEN now() + LEAST(
        COALESCE((backoff->>'initial_ms')::float8, 1000)
            * power(COALESCE((backoff->>'factor')::float8, 2.0), GREATEST(attempt - 1, 0)),
        COALESCE((backoff->>'max_ms')::float8, 300000)) * interval '1 millisecond'
        ELSE available_at END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
WHERE state = 'leased' AND lease_expires_at < now() AND run_id = ANY(%s)
RETURNING id, run_id, state;

-- name: next_task_at
SELECT min(available_at) AS at FROM continuum_activity_tasks WHERE state = 'pending';
