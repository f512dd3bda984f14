-- Named queries of the Postgres journal: events, updates, cooperative cancellation.

-- name: upsert_events
-- One row per key (the caller keeps the last write of each key): last write wins.
INSERT INTO continuum_run_events (correlation_id, key, value, run_id, seq)
SELECT r.correlation_id, e.key, COALESCE(e.value, 'null'::jsonb), r.id, e.seq
FROM jsonb_to_recordset(%s::jsonb) AS e(key text, value jsonb, seq integer)
JOIN continuum_runs r ON r.id = %s
ON CONFLICT (correlation_id, key) DO UPDATE
SET value = EXCLUDED.value, run_id = EXCLUDED.run_id, seq = EXCLUDED.seq, updated_at = now()
RETURNING correlation_id;

-- name: accept_updates
-- accepted_at IS NULL: an update is accepted at most once, whoever races for it.
UPDATE continuum_updates AS u
SET accepted_at = now(), accepted_seq = c.seq
FROM jsonb_to_recordset(%s::jsonb) AS c(id bigint, seq integer)
WHERE u.id = c.id AND u.run_id = %s AND u.accepted_at IS NULL
RETURNING u.id;

-- name: answer_updates
-- answered_at IS NULL: an update is answered at most once.
UPDATE continuum_updates AS u
SET answered_at = now(), status = a.status, answer = COALESCE(a.answer, 'null'::jsonb)
FROM jsonb_to_recordset(%s::jsonb) AS a(id bigint, status text, answer jsonb)
WHERE u.id = a.id AND u.answered_at IS NULL
RETURNING u.id, pg_notify('continuum_update_answered', u.id::text);

-- name: move_updates
UPDATE continuum_updates SET run_id = %s WHERE run_id = %s AND accepted_at IS NULL;

-- name: successor_grace_timer
-- A continue_as_new successor inherits a pending cooperative cancel and its deadline.
INSERT INTO continuum_timers (run_id, seq, fire_at)
SELECT %s, 0, cancel_grace_until FROM continuum_runs
WHERE id = %s AND cancel_grace_until IS NOT NULL
ON CONFLICT (run_id, seq) DO NOTHING;

-- name: insert_update
INSERT INTO continuum_updates (run_id, name, payload) VALUES (%s, %s, %s::jsonb) RETURNING id;

-- name: update_status
SELECT u.id, u.run_id, r.state AS run_state, u.accepted_at IS NOT NULL AS accepted,
       u.status, u.answer
FROM continuum_updates u JOIN continuum_runs r ON r.id = u.run_id
WHERE u.id = %s;

-- name: withdraw_update
DELETE FROM continuum_updates WHERE id = %s AND accepted_at IS NULL RETURNING id;

-- name: pending_updates
SELECT id, name, payload, inserted_at, accepted_at IS NOT NULL AS accepted
FROM continuum_updates WHERE run_id = %s AND answered_at IS NULL ORDER BY id;

-- name: chain_of
SELECT correlation_id FROM continuum_runs WHERE id = %s;

-- name: get_event
SELECT value FROM continuum_run_events WHERE correlation_id = %s AND key = %s;

-- name: events
SELECT key, value FROM continuum_run_events WHERE correlation_id = %s ORDER BY key;

-- name: request_cancel
-- Cooperative cancel of one generation: the first request sets the deadline, a repeat
-- keeps it. Each run is woken so its next activation delivers Cancelled, and a timer
-- at seq 0 (never a journal seq) wakes it again when the grace runs out.
WITH asked AS (
    UPDATE continuum_runs
    SET cancel_requested_at = COALESCE(cancel_requested_at, now()),
        cancel_grace_until = CASE WHEN cancel_requested_at IS NULL
                                  THEN now() + %(grace)s::interval
                                  ELSE cancel_grace_until END,
        next_wakeup_at = LEAST(next_wakeup_at, now()),
        updated_at = now()
    WHERE id = ANY(%(ids)s) AND state IN ('running', 'suspended')
    RETURNING id, cancel_grace_until
), timers AS (
    INSERT INTO continuum_timers (run_id, seq, fire_at)
    SELECT id, 0, cancel_grace_until FROM asked WHERE cancel_grace_until IS NOT NULL
    ON CONFLICT (run_id, seq) DO NOTHING
)
SELECT id, pg_notify('continuum_run_wake', id) FROM asked;
