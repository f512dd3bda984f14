-- Activities at work (SPEC §18): heartbeats and their timeout, unlimited attempts, and
-- one definition of the retry backoff shared by every statement that schedules a retry.

-- Heartbeats: the last details stored (handed to the next attempt), when, and the
-- silence after which an attempt counts as crashed (its lease then runs on that clock).
ALTER TABLE continuum_activity_tasks
    ADD COLUMN heartbeat_timeout_ms bigint,
    ADD COLUMN heartbeat_details    jsonb,
    ADD COLUMN last_heartbeat_at    timestamptz;

-- max_attempts NULL: retry without limit (with backoff).
ALTER TABLE continuum_activity_tasks ALTER COLUMN max_attempts DROP NOT NULL;

-- The wait before the next attempt after attempt `attempt` failed, in milliseconds:
-- initial_ms * factor^(attempt-1), capped at max_ms. The exponent stops growing once the
-- cap is reached, so a task retried thousands of times never overflows float8.
CREATE FUNCTION continuum_backoff_ms(backoff jsonb, attempt integer) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT LEAST(
        b.initial_ms * power(b.factor, CASE
            WHEN b.factor <= 1.0 OR b.initial_ms <= 0 THEN 0
            ELSE LEAST(GREATEST(attempt - 1, 0),
                       ceil(ln(GREATEST(b.max_ms / b.initial_ms, 1.0)) / ln(b.factor)) + 1)
            END),
        b.max_ms)
    FROM (SELECT COALESCE((backoff->>'initial_ms')::float8, 1000) AS initial_ms,
                 GREATEST(COALESCE((backoff->>'factor')::float8, 2.0), 1.0) AS factor,
                 COALESCE((backoff->>'max_ms')::float8, 300000) AS max_ms) AS b
$$;
