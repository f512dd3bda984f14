-- Named queries of the Postgres journal: activity task leases.
-- Every finishing write is fenced by the task's id, lease token, attempt and state.

-- name: claim_tasks
-- The attempt counter moves at claim time, so a crashed attempt counts (seed v0.6.0).
-- A task with a heartbeat timeout is leased for that long (plus the one second heartbeats
-- are coalesced over) and only the activity's own heartbeats renew it: an attempt that
-- goes silent loses its lease and the sweep retries it.
UPDATE continuum_activity_tasks AS t
SET state = 'leased',
    attempt = t.attempt + 1,
    lease_owner = %(owner)s,
    lease_token = nextval('continuum_lease_token_seq'),
    lease_expires_at = now() + CASE WHEN t.heartbeat_timeout_ms IS NULL THEN %(ttl)s::interval
        ELSE (t.heartbeat_timeout_ms + 1000) * interval '1 millisecond' END,
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
          now() AS claimed_at, t.heartbeat_timeout_ms, t.heartbeat_details,
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
-- The worker's own renewal (beat false) and the activity's heartbeats (beat true: the
-- details are stored for the next attempt). A task with a heartbeat timeout is renewed
-- for that long after the heartbeat call (%(age)s ago: a coalesced call written late);
-- any other for the lease TTL. An attempt handed off to asynchronous completion (no
-- owner) is not renewed here.
UPDATE continuum_activity_tasks
SET lease_expires_at = now() + CASE WHEN heartbeat_timeout_ms IS NULL THEN %(ttl)s::interval
        ELSE (heartbeat_timeout_ms + 1000) * interval '1 millisecond' - %(age)s::interval END,
    heartbeat_details = CASE WHEN %(has_details)s THEN %(details)s::jsonb
                             ELSE heartbeat_details END,
    last_heartbeat_at = CASE WHEN %(beat)s THEN now() ELSE last_heartbeat_at END,
    updated_at = now()
WHERE id = %(id)s AND lease_token = %(token)s AND attempt = %(attempt)s AND state = 'leased'
  AND lease_owner IS NOT NULL
RETURNING id;

-- name: task_state
-- Why a heartbeat missed: the task's state now (discarded: its run was cancelled or
-- finished; another attempt: its lease was taken over).
SELECT t.state, t.attempt, r.state AS run_state
FROM continuum_activity_tasks t JOIN continuum_runs r ON r.id = t.run_id
WHERE t.id = %s;

-- name: defer_task
-- complete_later(): the attempt stays leased under its token, owned by nobody (no worker
-- renews it), until complete_activity/fail_activity finish it — or, with a timeout, until
-- the timeout runs out and the sweep retries it.
UPDATE continuum_activity_tasks
SET lease_owner = NULL,
    lease_expires_at = CASE WHEN timeout_ms IS NULL THEN NULL
                            ELSE now() + timeout_ms * interval '1 millisecond' END,
    updated_at = now()
WHERE id = %(id)s AND lease_token = %(token)s AND attempt = %(attempt)s AND state = 'leased'
RETURNING id;

-- name: hand_off_task
-- An external executor (procrastinate) takes the attempt: it waits in that queue under
-- a 'queued:' owner for at most %(ttl)s; one that never started by then goes back to
-- pending without counting (requeue_expired_tasks), and its late job finds it stale.
UPDATE continuum_activity_tasks
SET lease_owner = %(owner)s, lease_expires_at = now() + %(ttl)s::interval, updated_at = now()
WHERE id = %(id)s AND lease_token = %(token)s AND attempt = %(attempt)s AND state = 'leased'
RETURNING id;

-- name: adopt_task
-- The external executor starts the attempt it was handed: fenced by token and attempt,
-- and only once (a 'queued:' owner becomes the job's own), leased like a claim.
UPDATE continuum_activity_tasks
SET lease_owner = %(owner)s,
    lease_expires_at = now() + CASE WHEN heartbeat_timeout_ms IS NULL THEN %(ttl)s::interval
        ELSE (heartbeat_timeout_ms + 1000) * interval '1 millisecond' END,
    updated_at = now()
WHERE id = %(id)s AND lease_token = %(token)s AND attempt = %(attempt)s AND state = 'leased'
  AND lease_owner LIKE 'queued:%%'
RETURNING id, run_id, command_seq, kind, activity, args, idempotency_key, attempt,
          max_attempts, timeout_ms, lease_token, lease_owner, now() AS claimed_at,
          heartbeat_timeout_ms, heartbeat_details,
          (SELECT r.trace_context FROM continuum_runs r
            WHERE r.id = continuum_activity_tasks.run_id) AS trace_context;

-- name: task_by_id
-- complete_activity/fail_activity: the task a token names (the finish itself is fenced).
SELECT id, run_id, command_seq, kind, activity, args, idempotency_key, attempt, max_attempts,
       timeout_ms, lease_token, lease_owner, now() AS claimed_at, heartbeat_timeout_ms,
       heartbeat_details, state
FROM continuum_activity_tasks WHERE id = %s;

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
-- task's own policy (continuum_backoff_ms). %(final)s: a non-retryable error fails at once.
-- max_attempts NULL retries without limit.
UPDATE continuum_activity_tasks
SET state = CASE WHEN NOT %(final)s AND (max_attempts IS NULL OR attempt < max_attempts)
                 THEN 'pending' ELSE 'failed' END,
    error = %(error)s::jsonb,
    available_at = CASE WHEN NOT %(final)s AND (max_attempts IS NULL OR attempt < max_attempts)
        THEN now() + continuum_backoff_ms(backoff, attempt) * interval '1 millisecond'
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
-- An attempt that outlived its heartbeat timeout already waited that long: it is retried
-- at once. An attempt handed to asynchronous completion that ran out of time is retried.
-- An attempt that waited in an external queue ('queued:' owner) and never started goes
-- back to pending without counting.
UPDATE continuum_activity_tasks
SET state = CASE WHEN lease_owner LIKE 'queued:%%' OR max_attempts IS NULL
                      OR attempt < max_attempts
                 THEN 'pending' ELSE 'failed' END,
    attempt = CASE WHEN lease_owner LIKE 'queued:%%' THEN attempt - 1 ELSE attempt END,
    error = CASE
        WHEN lease_owner LIKE 'queued:%%' THEN error
        WHEN lease_owner IS NULL THEN jsonb_build_object(
            'type', 'CompletionTimeout',
            'message', format('activity %%s attempt %%s was handed to asynchronous completion '
                              'and not completed within its timeout of %%s ms',
                              activity, attempt, timeout_ms),
            'code', 'completion_timeout')
        WHEN heartbeat_timeout_ms IS NOT NULL THEN jsonb_build_object(
            'type', 'HeartbeatTimeout',
            'message', format('activity %%s attempt %%s sent no heartbeat for longer than its '
                              'heartbeat_timeout of %%s ms (hung, or its worker stopped)',
                              activity, attempt, heartbeat_timeout_ms),
            'code', 'heartbeat_timeout')
        WHEN max_attempts IS NULL OR attempt < max_attempts THEN jsonb_build_object(
            'type', 'LeaseExpired',
            'message', format('activity %%s attempt %%s of %%s was lost: its worker stopped '
                              'heartbeating the task lease', activity, attempt,
                              COALESCE(max_attempts::text, 'unlimited')),
            'code', 'lease_expired')
        ELSE jsonb_build_object(
            'type', 'AttemptsExhausted',
            'message', format('activity %%s attempt %%s of %%s was lost (worker crashed or lease '
                              'expired) and no attempts remain: attempts_exhausted; raise '
                              'max_attempts and add an idempotency key for crash-resilient '
                              'activities', activity, attempt, max_attempts),
            'code', 'attempts_exhausted')
        END,
    available_at = CASE
        WHEN lease_owner LIKE 'queued:%%' THEN now()
        WHEN NOT (max_attempts IS NULL OR attempt < max_attempts) THEN available_at
        WHEN heartbeat_timeout_ms IS NOT NULL AND lease_owner IS NOT NULL THEN now()
        ELSE now() + continuum_backoff_ms(backoff, attempt) * interval '1 millisecond' END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
WHERE state = 'leased' AND lease_expires_at < now() AND run_id = ANY(%s)
RETURNING id, run_id, state;

-- name: next_watched_expiry_in
-- Seconds until the earliest lease that only the activity itself renews (heartbeat
-- timeout) or nobody renews (asynchronous completion with a timeout) runs out: the
-- activity dispatcher sweeps then, so such a task is retried on time by any worker.
SELECT extract(epoch FROM min(lease_expires_at) - now())::float8 AS seconds
FROM continuum_activity_tasks
WHERE state = 'leased' AND (heartbeat_timeout_ms IS NOT NULL OR lease_owner IS NULL);

-- name: next_task_at
SELECT min(available_at) AS at FROM continuum_activity_tasks WHERE state = 'pending';

-- name: claim_idempotency_key
-- Claim (activity, key) for this task attempt: a new claim, our own task's earlier claim,
-- or a claim whose holder no longer holds its attempt's lease (crashed, expired, done).
-- No row back: another live attempt holds it. Fenced: the claimer must hold its lease.
INSERT INTO continuum_idempotency_claims AS c
    (activity, idempotency_key, task_id, attempt, lease_token)
SELECT t.activity, t.idempotency_key, t.id, t.attempt, t.lease_token
FROM continuum_activity_tasks t
WHERE t.id = %(id)s AND t.lease_token = %(token)s AND t.attempt = %(attempt)s
  AND t.state = 'leased' AND t.idempotency_key IS NOT NULL
ON CONFLICT (activity, idempotency_key) DO UPDATE
SET task_id = EXCLUDED.task_id, attempt = EXCLUDED.attempt,
    lease_token = EXCLUDED.lease_token, claimed_at = now()
WHERE c.task_id = EXCLUDED.task_id
   OR NOT EXISTS (
       SELECT 1 FROM continuum_activity_tasks h
       WHERE h.id = c.task_id AND h.attempt = c.attempt AND h.lease_token = c.lease_token
         AND h.state = 'leased' AND h.lease_expires_at > now()
   )
RETURNING task_id;
