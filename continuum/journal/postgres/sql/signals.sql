-- Named queries of the Postgres journal: the durable signal mailbox.

-- name: lock_hop
-- One hop of a continue_as_new chain, locked so a concurrent continuation either
-- finishes first (and we follow it) or waits for us (and moves our signal).
SELECT id, state, continued_to_run_id, parent_run_id FROM continuum_runs WHERE id = %s FOR UPDATE;

-- name: insert_signal
INSERT INTO continuum_signals (run_id, name, payload) VALUES (%s, %s, %s::jsonb) RETURNING id;

-- name: wake_locked_run
UPDATE continuum_runs
SET next_wakeup_at = LEAST(next_wakeup_at, now()), updated_at = now()
WHERE id = %s
RETURNING pg_notify('continuum_run_wake', id);
