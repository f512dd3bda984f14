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
-- Per run, the first lease_n new tasks are inserted already leased to %(owner)s (attempt
-- 1, a fresh token), exactly as claim_tasks would lease them; the rest are pending.
INSERT INTO continuum_activity_tasks
    (run_id, command_seq, kind, activity, args, idempotency_key, state, attempt, max_attempts,
     timeout_ms, backoff, available_at, lease_owner, lease_token, lease_expires_at)
SELECT b.run_id, t.command_seq, t.kind, t.activity, t.args, t.idempotency_key,
       CASE WHEN t.n <= b.lease_n THEN 'leased' ELSE 'pending' END,
       CASE WHEN t.n <= b.lease_n THEN 1 ELSE 0 END,
       t.max_attempts, t.timeout_ms, COALESCE(t.backoff, '{}'::jsonb), now(),
       CASE WHEN t.n <= b.lease_n THEN %(owner)s::text END,
       CASE WHEN t.n <= b.lease_n THEN nextval('continuum_lease_token_seq') END,
       CASE WHEN t.n <= b.lease_n THEN now() + %(ttl)s::interval END
FROM jsonb_to_recordset(%(batch)s::jsonb) AS b(run_id text, lease_n integer, tasks jsonb)
CROSS JOIN LATERAL ROWS FROM (
    jsonb_to_recordset(b.tasks)
        AS (command_seq integer, kind text, activity text, args jsonb, idempotency_key text,
            max_attempts integer, timeout_ms bigint, backoff jsonb)
) WITH ORDINALITY AS t(command_seq, kind, activity, args, idempotency_key, max_attempts,
                       timeout_ms, backoff, n)
RETURNING id, run_id, command_seq, kind, activity, args, idempotency_key, attempt,
          max_attempts, timeout_ms, lease_token, lease_owner, now() AS claimed_at, state;

-- name: commit_runs
-- Events, the tasks they journal, and each run handed back: suspended (its wake-up time
-- keeps a wake that arrived during the activation, LEAST ignores NULLs) or finished
-- (CAS on the lease and on the run still being active; its pending and leased tasks are
-- discarded and its timers closed). Tasks inserted by insert_tasks above are visible.
WITH b AS (
    SELECT * FROM jsonb_to_recordset(%(batch)s::jsonb)
        AS b(run_id text, token bigint, last_seq integer, state text, result jsonb,
             error jsonb, events jsonb, journaled jsonb)
), new_events AS (
    INSERT INTO continuum_events (run_id, seq, type, command, ref_seq, data)
    SELECT b.run_id, e.seq, e.type, e.command, e.ref_seq, COALESCE(e.data, '{}'::jsonb)
    FROM b CROSS JOIN LATERAL jsonb_to_recordset(b.events)
        AS e(seq integer, type text, command jsonb, ref_seq integer, data jsonb)
), journaled AS (
    UPDATE continuum_activity_tasks AS t SET journaled = true, updated_at = now()
    FROM b CROSS JOIN LATERAL jsonb_array_elements(b.journaled) AS j(seq)
    WHERE t.run_id = b.run_id AND t.command_seq = j.seq::integer
      AND t.state IN ('completed', 'failed')
), discarded AS (
    UPDATE continuum_activity_tasks AS t
    SET state = 'discarded', lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
        updated_at = now()
    FROM b
    WHERE b.state <> 'suspended' AND t.run_id = b.run_id AND t.state IN ('pending', 'leased')
), closed AS (
    UPDATE continuum_timers AS tm SET fired = true
    FROM b
    WHERE b.state <> 'suspended' AND tm.run_id = b.run_id AND NOT tm.fired
)
UPDATE continuum_runs AS r
SET state = b.state,
    result = CASE WHEN b.state = 'suspended' THEN r.result ELSE b.result END,
    error = CASE WHEN b.state = 'suspended' THEN r.error ELSE b.error END,
    last_seq = b.last_seq,
    finished_at = CASE WHEN b.state = 'suspended' THEN r.finished_at ELSE now() END,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    next_wakeup_at = CASE WHEN b.state = 'suspended' THEN LEAST(
        r.next_wakeup_at,
        (SELECT min(fire_at) FROM continuum_timers WHERE run_id = r.id AND NOT fired))
        END,
    updated_at = now()
FROM b
WHERE r.id = b.run_id AND r.lease_token = b.token AND r.state IN ('running', 'suspended')
RETURNING r.id, r.next_wakeup_at <= now() AS due,
          CASE WHEN b.state <> 'suspended' THEN pg_notify('continuum_run_finished', r.id) END
              AS notified;
