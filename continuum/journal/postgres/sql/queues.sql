-- Named queries of the Postgres journal: queues and admission (SPEC §15).
-- Admission is fenced by the queue's row lock: one admitter per queue at a time, and
-- the admitter counts what is running only after it holds the lock (a fresh statement
-- snapshot), so the limits hold across every worker and client.

-- name: upsert_queue
INSERT INTO continuum_queues (name, concurrency, rate_limit, rate_period)
VALUES (%(name)s, %(concurrency)s, %(rate_limit)s, %(rate_period)s)
ON CONFLICT (name) DO UPDATE
SET concurrency = EXCLUDED.concurrency, rate_limit = EXCLUDED.rate_limit,
    rate_period = EXCLUDED.rate_period, updated_at = now()
RETURNING name;

-- name: ensure_queue
-- A queue used before it is configured has no limits until configure_queue sets them.
INSERT INTO continuum_queues (name) VALUES (%s) ON CONFLICT (name) DO NOTHING;

-- name: lock_queue
SELECT name FROM continuum_queues WHERE name = %s FOR UPDATE;

-- name: admit
-- Runs after lock_queue, in its own statement, so its snapshot sees every commit that
-- finished or admitted a run before we took the lock. Times use clock_timestamp(): the
-- database clock, monotonic across admitters serialized by the lock.
WITH q AS (
    SELECT concurrency, rate_limit, rate_period FROM continuum_queues WHERE name = %(queue)s
),
active AS (
    SELECT count(*) AS n FROM continuum_runs
    WHERE queue = %(queue)s AND state IN ('running', 'suspended')
),
recent AS (
    SELECT count(*) AS n FROM continuum_runs, q
    WHERE queue = %(queue)s AND q.rate_period IS NOT NULL
      AND admitted_at > clock_timestamp() - q.rate_period
),
room AS (
    SELECT GREATEST(0, LEAST(COALESCE(q.concurrency - active.n, %(limit)s),
                             COALESCE(q.rate_limit - recent.n, %(limit)s),
                             %(limit)s)) AS n
    FROM q, active, recent
),
picked AS (
    SELECT id FROM continuum_runs
    WHERE queue = %(queue)s AND state = 'queued'
    ORDER BY priority, started_at, id
    LIMIT (SELECT n FROM room)
    FOR UPDATE SKIP LOCKED
)
UPDATE continuum_runs AS r
SET state = 'running', admitted_at = clock_timestamp(), next_wakeup_at = now(),
    updated_at = now()
FROM picked
WHERE r.id = picked.id AND r.state = 'queued'
RETURNING r.id, pg_notify('continuum_run_wake', r.id) AS notified;

-- name: queue_backlog
-- After an admission: how many still wait, and (when a rate limit is full) the seconds
-- until its window lets the next run start.
SELECT (SELECT count(*) FROM continuum_runs WHERE queue = %(queue)s AND state = 'queued')
           AS queued,
       (SELECT extract(epoch FROM w.admitted_at + q.rate_period - clock_timestamp())::float8
          FROM continuum_queues q,
               LATERAL (SELECT admitted_at FROM continuum_runs
                        WHERE queue = q.name AND admitted_at IS NOT NULL
                        ORDER BY admitted_at DESC
                        OFFSET q.rate_limit - 1 LIMIT 1) AS w
         WHERE q.name = %(queue)s AND q.rate_limit IS NOT NULL) AS rate_wait_s;

-- name: waiting_queues
SELECT DISTINCT queue FROM continuum_runs WHERE state = 'queued' AND queue IS NOT NULL;

-- name: list_queues
SELECT q.name, q.concurrency, q.rate_limit, q.rate_period,
       (SELECT count(*) FROM continuum_runs r
         WHERE r.queue = q.name AND r.state IN ('running', 'suspended')) AS running,
       (SELECT count(*) FROM continuum_runs r
         WHERE r.queue = q.name AND r.state = 'queued') AS queued
FROM continuum_queues q
ORDER BY q.name;
