-- Named queries of the Postgres journal: group commit of many activations at once.
-- One JSON parameter, %(batch)s, holds one document per run:
--   {run_id, token, last_seq, state, result, error, events, journaled, tasks, lease_n}
-- and every statement expands the part it writes. The runs' rows are locked (and each
-- lease checked) by lock_runs earlier in the same transaction.

-- name: lock_runs
-- A group commit never waits for a row lock: a run locked by someone else right now (a
-- finishing task, a signal, a cancel) is left out and committed on its own, so the
-- batch cannot join a lock cycle.
SELECT id, lease_token, state, last_seq, parent_run_id FROM continuum_runs
WHERE id = ANY(%s::text[])
ORDER BY id
FOR UPDATE SKIP LOCKED;

-- name: insert_tasks
-- Also used by a single commit (a batch of one). Per run, the first lease_n new tasks are inserted already leased to %(owner)s (attempt
-- 1, a fresh token), exactly as claim_tasks would lease them; the rest are pending.
INSERT INTO continuum_activity_tasks
    (run_id, command_seq, kind, activity, args, idempotency_key, state, attempt, max_attempts,
     timeout_ms, backoff, available_at, lease_owner, lease_token, lease_expires_at,
     heartbeat_timeout_ms)
SELECT b.run_id, t.command_seq, t.kind, t.activity, t.args, t.idempotency_key,
       CASE WHEN t.n <= b.lease_n THEN 'leased' ELSE 'pending' END,
       CASE WHEN t.n <= b.lease_n THEN 1 ELSE 0 END,
       t.max_attempts, t.timeout_ms, COALESCE(t.backoff, '{}'::jsonb), now(),
       CASE WHEN t.n <= b.lease_n THEN %(owner)s::text END,
       CASE WHEN t.n <= b.lease_n THEN nextval('continuum_lease_token_seq') END,
       CASE WHEN t.n <= b.lease_n THEN now() + CASE WHEN t.heartbeat_timeout_ms IS NULL
           THEN %(ttl)s::interval
           ELSE (t.heartbeat_timeout_ms + 1000) * interval '1 millisecond' END END,
       t.heartbeat_timeout_ms
FROM jsonb_to_recordset(%(batch)s::jsonb) AS b(run_id text, lease_n integer, tasks jsonb)
CROSS JOIN LATERAL ROWS FROM (
    jsonb_to_recordset(b.tasks)
        AS (command_seq integer, kind text, activity text, args jsonb, idempotency_key text,
            max_attempts integer, timeout_ms bigint, backoff jsonb, heartbeat_timeout_ms bigint)
) WITH ORDINALITY AS t(command_seq, kind, activity, args, idempotency_key, max_attempts,
                       timeout_ms, backoff, heartbeat_timeout_ms, n)
RETURNING id, run_id, command_seq, kind, activity, args, idempotency_key, attempt,
          max_attempts, timeout_ms, lease_token, lease_owner, now() AS claimed_at, state,
          heartbeat_timeout_ms, heartbeat_details,
          (SELECT r.trace_context FROM continuum_runs r
            WHERE r.id = continuum_activity_tasks.run_id) AS trace_context;

-- name: commit_runs
-- Also the last statement of a single commit (a batch of one). Events, the tasks they
-- journal, and each run handed back: suspended (its wake-up time
-- keeps a wake that arrived during the activation, LEAST ignores NULLs) or finished
-- (CAS on the lease and on the run still being active; its pending and leased tasks are
-- discarded and its timers closed). Tasks inserted by insert_tasks above are visible.
-- Every table is reached through %(ids)s (the batch's run ids) on an index, so the plan
-- stays an index walk whatever the statistics say (a generic plan made while the tables
-- were small must not scan them once they have grown). Journaled tasks are reached by
-- %(seqs)s (every journaled command seq of the batch) and NOT journaled as well: the
-- unjournaled tasks of a run are a handful, all its tasks grow with its history.
-- %(any_ended)s (some run of the batch ends) gates the two CTEs that only ending runs
-- need: a parameter-only condition is a one-time filter, so a batch of suspended runs
-- never scans their tasks (a run's pending tasks have no index of their own).
WITH b AS (
    SELECT * FROM jsonb_to_recordset(%(batch)s::jsonb)
        AS b(run_id text, token bigint, last_seq integer, state text, result jsonb,
             error jsonb, continued_to text, events jsonb, journaled jsonb)
), new_events AS (
    INSERT INTO continuum_events (run_id, seq, type, command, ref_seq, data)
    SELECT b.run_id, e.seq, e.type, e.command, e.ref_seq, COALESCE(e.data, '{}'::jsonb)
    FROM b CROSS JOIN LATERAL jsonb_to_recordset(b.events)
        AS e(seq integer, type text, command jsonb, ref_seq integer, data jsonb)
), journaled AS (
    UPDATE continuum_activity_tasks AS t SET journaled = true, updated_at = now()
    FROM b CROSS JOIN LATERAL jsonb_array_elements(b.journaled) AS j(seq)
    WHERE t.run_id = ANY(%(ids)s::text[]) AND t.command_seq = ANY(%(seqs)s::integer[])
      AND t.state IN ('completed', 'failed') AND NOT t.journaled
      AND t.run_id = b.run_id AND t.command_seq = j.seq::integer
), discarded AS (
    UPDATE continuum_activity_tasks AS t
    SET state = 'discarded', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
        updated_at = now()
    FROM b
    WHERE %(any_ended)s::boolean AND t.run_id = ANY(%(ids)s::text[]) AND b.state <> 'suspended'
      AND t.run_id = b.run_id AND t.state IN ('pending', 'leased')
), closed AS (
    UPDATE continuum_timers AS tm SET fired = true
    FROM b
    WHERE %(any_ended)s::boolean AND tm.run_id = ANY(%(ids)s::text[]) AND b.state <> 'suspended'
      AND tm.run_id = b.run_id AND NOT tm.fired
)
UPDATE continuum_runs AS r
SET state = b.state,
    result = CASE WHEN b.state = 'suspended' THEN r.result ELSE b.result END,
    error = CASE WHEN b.state = 'suspended' THEN r.error ELSE b.error END,
    continued_to_run_id = CASE WHEN b.state = 'suspended' THEN r.continued_to_run_id
                               ELSE b.continued_to END,
    last_seq = b.last_seq,
    finished_at = CASE WHEN b.state = 'suspended' THEN r.finished_at ELSE now() END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    next_wakeup_at = CASE WHEN b.state = 'suspended' THEN LEAST(
        r.next_wakeup_at,
        (SELECT min(fire_at) FROM continuum_timers WHERE run_id = r.id AND NOT fired))
        END,
    updated_at = now()
FROM b
WHERE r.id = ANY(%(ids)s::text[]) AND r.id = b.run_id AND r.lease_token = b.token
  AND r.state IN ('running', 'suspended')
RETURNING r.id, r.parent_run_id, r.next_wakeup_at <= now() AS due,
          CASE WHEN b.state <> 'suspended' THEN pg_notify('continuum_run_finished', r.id) END
              AS notified;

-- name: lock_task_runs
-- Group finish of activity tasks: the tasks' runs first (the lock order of every writer:
-- run before task), without waiting — a run locked right now is left out and its task
-- finished on its own.
SELECT t.id AS task_id, r.id AS run_id
FROM continuum_activity_tasks t JOIN continuum_runs r ON r.id = t.run_id
WHERE t.id = ANY(%s::bigint[]) AND r.id = ANY(%s::text[])
ORDER BY r.id
FOR UPDATE OF r SKIP LOCKED;

-- name: complete_tasks
-- Each completion is fenced by the task's id, lease token, attempt and state, exactly as
-- complete_task; results with an idempotency key are stored for reuse.
WITH f AS (
    SELECT * FROM jsonb_to_recordset(%s::jsonb)
        AS f(id bigint, token bigint, attempt integer, result jsonb)
), done AS (
    UPDATE continuum_activity_tasks AS t
    SET state = 'completed', result = COALESCE(f.result, 'null'::jsonb),
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = now()
    FROM f
    WHERE t.id = ANY(%s::bigint[]) AND t.id = f.id AND t.lease_token = f.token AND t.attempt = f.attempt
      AND t.state = 'leased'
    RETURNING t.id, t.run_id, t.activity, t.idempotency_key, t.result
), saved AS (
    INSERT INTO continuum_activity_results (activity, idempotency_key, result)
    SELECT activity, idempotency_key, result FROM done WHERE idempotency_key IS NOT NULL
    ON CONFLICT (activity, idempotency_key) DO NOTHING
)
SELECT id, run_id FROM done;

-- name: claim_or_wake_runs
-- The runs of completed tasks, locked by this transaction. One asked for (claim) that
-- nobody holds, or whose lease expired, is leased to %(owner)s; any other is made due now
-- and announced (its holder's commit sees the wake).
UPDATE continuum_runs AS r
SET lease_owner = CASE WHEN c.take THEN %(owner)s ELSE r.lease_owner END,
    lease_token = CASE WHEN c.take THEN nextval('continuum_lease_token_seq')
                       ELSE r.lease_token END,
    lease_expires_at = CASE WHEN c.take THEN now() + %(ttl)s::interval
                            ELSE r.lease_expires_at END,
    next_wakeup_at = CASE WHEN c.take THEN NULL ELSE LEAST(r.next_wakeup_at, now()) END,
    state = CASE WHEN c.take THEN 'running' ELSE r.state END,
    updated_at = now()
FROM (
    SELECT u.id,
           u.claim AND (o.lease_token IS NULL OR o.lease_expires_at < now()) AS take
    FROM unnest(%(ids)s::text[], %(claim)s::boolean[]) AS u(id, claim)
    JOIN continuum_runs o ON o.id = u.id
    WHERE o.id = ANY(%(ids)s::text[])
) AS c
WHERE r.id = ANY(%(ids)s::text[]) AND r.id = c.id AND r.state IN ('running', 'suspended')
RETURNING r.id, c.take AS claimed, r.lease_owner, r.lease_token, r.workflow, r.version_hash,
          CASE WHEN NOT c.take THEN pg_notify('continuum_run_wake', r.id) END AS notified;
