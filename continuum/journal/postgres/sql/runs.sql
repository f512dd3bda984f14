-- Named queries of the Postgres journal: run rows, leases, reads.
-- Loaded by continuum.journal.postgres.statements. Every ownership write carries the
-- lease token in its WHERE clause; every time comparison uses the database clock.

-- name: now
SELECT now() AS now;

-- name: insert_run
-- Idempotent on id: a conflicting start returns no row and the caller reads the existing one.
-- A run on a queue waits as 'queued' (no wake-up, no lease) until admission lets it start.
INSERT INTO continuum_runs AS r
    (id, workflow, version_hash, state, input, namespace, attributes, correlation_id,
     trace_context, next_wakeup_at, lease_owner, lease_token, lease_expires_at, queue, priority)
VALUES (%(id)s, %(workflow)s, %(version_hash)s,
        CASE WHEN %(queue)s::text IS NULL THEN 'running' ELSE 'queued' END,
        %(input)s::jsonb, %(namespace)s,
        %(attributes)s::jsonb, %(id)s, %(trace_context)s,
        CASE WHEN %(owner)s::text IS NULL AND %(queue)s::text IS NULL THEN now() END,
        %(owner)s::text,
        CASE WHEN %(owner)s::text IS NOT NULL THEN nextval('continuum_lease_token_seq') END,
        CASE WHEN %(owner)s::text IS NOT NULL THEN now() + %(ttl)s::interval END,
        %(queue)s::text, %(priority)s)
ON CONFLICT (id) DO NOTHING
RETURNING r.*;

-- name: lock_run_for_restart
SELECT id, state FROM continuum_runs WHERE id = %s FOR UPDATE;

-- name: restart_run
-- if_exists="restart_failed": the failed (or cancelled) run starts again under its id,
-- from an empty journal, with the new input. Its old journal, tasks and timers go.
WITH wiped_events AS (DELETE FROM continuum_events WHERE run_id = %(id)s),
     wiped_tasks AS (DELETE FROM continuum_activity_tasks WHERE run_id = %(id)s),
     wiped_timers AS (DELETE FROM continuum_timers WHERE run_id = %(id)s),
     wiped_snapshots AS (DELETE FROM continuum_snapshots WHERE run_id = %(id)s)
UPDATE continuum_runs AS r
SET workflow = %(workflow)s, version_hash = %(version_hash)s,
    state = CASE WHEN %(queue)s::text IS NULL THEN 'running' ELSE 'queued' END,
    input = %(input)s::jsonb, namespace = %(namespace)s, attributes = %(attributes)s::jsonb,
    result = NULL, error = NULL, last_seq = 0, cancel_requested_at = NULL,
    lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    next_wakeup_at = CASE WHEN %(queue)s::text IS NULL THEN now() END,
    queue = %(queue)s::text, priority = %(priority)s, admitted_at = NULL,
    started_at = now(), finished_at = NULL, updated_at = now()
WHERE r.id = %(id)s AND r.state IN ('failed', 'cancelled')
RETURNING r.*;

-- name: get_run
SELECT * FROM continuum_runs WHERE id = %s;

-- name: lock_run
SELECT * FROM continuum_runs WHERE id = %s FOR UPDATE;

-- name: run_exists
SELECT 1 FROM continuum_runs WHERE id = %s;

-- name: chain_tip
-- The live end of a continue_as_new chain (read only; writers lock hop by hop instead).
WITH RECURSIVE chain AS (
    SELECT id, continued_to_run_id, 0 AS hops FROM continuum_runs WHERE id = %s
    UNION ALL
    SELECT r.id, r.continued_to_run_id, c.hops + 1
    FROM continuum_runs r JOIN chain c ON r.id = c.continued_to_run_id
    WHERE c.hops < 100000
)
SELECT id FROM chain WHERE continued_to_run_id IS NULL;

-- name: history
SELECT seq, type, command, ref_seq, data, inserted_at
FROM continuum_events WHERE run_id = %s ORDER BY seq;

-- name: merge_attributes
-- Merged in SQL so concurrent disjoint merges keep each other's keys (seed v0.6.0).
UPDATE continuum_runs SET attributes = attributes || %s::jsonb, updated_at = now()
WHERE id = %s
RETURNING id;

-- name: claim_due_runs
-- The dispatcher's claim path: must use continuum_runs_runnable_idx (see its EXPLAIN test).
UPDATE continuum_runs AS r
SET lease_owner = %(owner)s,
    lease_token = nextval('continuum_lease_token_seq'),
    lease_expires_at = now() + %(ttl)s::interval,
    next_wakeup_at = NULL,
    state = 'running',
    updated_at = now()
FROM (
    SELECT id FROM continuum_runs
    WHERE state IN ('running', 'suspended')
      AND next_wakeup_at <= now()
      AND (lease_token IS NULL OR lease_expires_at < now())
    ORDER BY next_wakeup_at
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
) AS due
WHERE r.id = due.id
RETURNING r.id, r.lease_owner, r.lease_token, r.workflow, r.version_hash;

-- name: claim_run
UPDATE continuum_runs
SET lease_owner = %(owner)s,
    lease_token = nextval('continuum_lease_token_seq'),
    lease_expires_at = now() + %(ttl)s::interval,
    next_wakeup_at = NULL,
    state = 'running',
    updated_at = now()
WHERE id = (
    SELECT id FROM continuum_runs
    WHERE id = %(run_id)s
      AND state IN ('running', 'suspended')
      AND (lease_token IS NULL OR lease_expires_at < now())
    FOR UPDATE SKIP LOCKED
)
RETURNING id, lease_owner, lease_token, workflow, version_hash;

-- name: heartbeat_runs
-- Never waits for a row lock (SKIP LOCKED), so a heartbeat cannot join a lock cycle with
-- a cancel cascade. A row locked right now (by our own commit, say) is reported as still
-- held from its last committed state and is simply extended on the next beat.
WITH mine AS (
    SELECT id, lease_token FROM continuum_runs
    WHERE lease_owner = %(owner)s
      AND lease_token = ANY(%(tokens)s)
      AND state IN ('running', 'suspended')
),
locked AS (
    SELECT id FROM continuum_runs
    WHERE id IN (SELECT id FROM mine)
    FOR UPDATE SKIP LOCKED
),
extended AS (
    UPDATE continuum_runs r
    SET lease_expires_at = now() + %(ttl)s::interval
    FROM locked
    WHERE r.id = locked.id AND r.lease_owner = %(owner)s AND r.lease_token = ANY(%(tokens)s)
      AND r.state IN ('running', 'suspended')
    RETURNING r.id, r.lease_token
)
SELECT lease_token FROM extended
UNION ALL
SELECT lease_token FROM mine WHERE id NOT IN (SELECT id FROM locked);

-- name: release_orphaned_runs
-- Runs leased to this worker under a token none of its slots holds: the acknowledgement
-- of the transaction that leased them was lost (a finish-and-claim, a claim), so nothing
-- runs them and nobody renews their lease. They are handed back and made due now instead
-- of waiting out the TTL. A lease taken less than %(min_age)s ago is left alone (it may be
-- on its way to a slot right now); a row locked elsewhere is skipped until the next beat.
WITH orphans AS (
    SELECT id FROM continuum_runs
    WHERE lease_owner = %(owner)s
      AND lease_token <> ALL(%(tokens)s::bigint[])
      AND state IN ('running', 'suspended')
      AND lease_expires_at < now() + %(ttl)s::interval - %(min_age)s::interval
    FOR UPDATE SKIP LOCKED
)
UPDATE continuum_runs AS r
SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    next_wakeup_at = now(), updated_at = now()
FROM orphans
WHERE r.id = orphans.id
RETURNING r.id, pg_notify('continuum_run_wake', r.id) AS notified;

-- name: release_run
-- The back-off is a wake time, so an incapable node does not hot-loop on the run (v0.6.1).
UPDATE continuum_runs
SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL,
    state = 'suspended',
    next_wakeup_at = now() + %(retry_after)s::interval,
    updated_at = now()
WHERE id = %(run_id)s AND lease_token = %(token)s AND state IN ('running', 'suspended')
RETURNING id;

-- name: expire_run_leases_of
-- Dead-worker takeover: end the leases now and make the runs due, so any live worker
-- claims them on its next poll instead of waiting out the TTL. Rows another session has
-- locked (a frozen worker mid-transaction) are skipped, never waited for: the reaper
-- tries them again on its next tick (see leases_left_of).
UPDATE continuum_runs
SET lease_expires_at = now() - interval '1 microsecond',
    next_wakeup_at = LEAST(next_wakeup_at, now()),
    updated_at = now()
WHERE id IN (
    SELECT id FROM continuum_runs
    WHERE lease_owner = ANY(%s) AND lease_token IS NOT NULL AND state IN ('running', 'suspended')
    FOR UPDATE SKIP LOCKED
)
RETURNING id, pg_notify('continuum_run_wake', id);

-- name: expire_task_leases_of
UPDATE continuum_activity_tasks
SET lease_expires_at = now() - interval '1 microsecond', updated_at = now()
WHERE id IN (
    SELECT id FROM continuum_activity_tasks
    WHERE lease_owner = ANY(%s) AND state = 'leased'
    FOR UPDATE SKIP LOCKED
)
RETURNING id;

-- name: leases_left_of
-- Which of the given owners still hold an unexpired run or task lease (rows the reaper had to
-- skip because they were locked). Plain reads: MVCC never waits on a row lock.
SELECT DISTINCT lease_owner AS owner FROM continuum_runs
WHERE lease_owner = ANY(%s) AND lease_token IS NOT NULL AND lease_expires_at > now()
  AND state IN ('running', 'suspended')
UNION
SELECT DISTINCT lease_owner FROM continuum_activity_tasks
WHERE lease_owner = ANY(%s) AND state = 'leased' AND lease_expires_at > now();

-- name: recover_expired_runs
-- A run whose owner stopped heartbeating has next_wakeup_at NULL (cleared at claim):
-- make it due again so the claim path (which needs next_wakeup_at) can take it over.
UPDATE continuum_runs
SET next_wakeup_at = now(), updated_at = now()
WHERE id IN (
    SELECT id FROM continuum_runs
    WHERE state IN ('running', 'suspended')
      AND lease_token IS NOT NULL
      AND lease_expires_at < now()
      AND next_wakeup_at IS NULL
    FOR UPDATE SKIP LOCKED
)
RETURNING id, pg_notify('continuum_run_wake', id);

-- name: wake_run
UPDATE continuum_runs
SET next_wakeup_at = LEAST(next_wakeup_at, now()), updated_at = now()
WHERE id = %s AND state IN ('running', 'suspended')
RETURNING id, pg_notify('continuum_run_wake', id);

-- name: next_wakeup
SELECT min(next_wakeup_at) AS at FROM continuum_runs WHERE state IN ('running', 'suspended');
