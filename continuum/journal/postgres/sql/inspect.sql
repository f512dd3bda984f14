-- Named queries of the Postgres journal: read-only inspection of one run for operators
-- (the Observer, `runs show`). Nothing here writes; every value is a parameter.

-- name: run_detail
SELECT id, input, trace_context, lease_owner, lease_expires_at, next_wakeup_at,
       cancel_requested_at, last_seq, updated_at, correlation_id
FROM continuum_runs WHERE id = %s;

-- name: pending_signals
SELECT id, name, payload, inserted_at
FROM continuum_signals
WHERE run_id = %s AND consumed_at IS NULL
ORDER BY id
LIMIT %s;

-- name: pending_timers
SELECT seq, fire_at
FROM continuum_timers
WHERE run_id = %s AND NOT fired
ORDER BY fire_at, seq
LIMIT %s;

-- name: open_tasks
-- Activity and compensation tasks not finished yet: pending (maybe backing off) or leased.
SELECT id, command_seq, kind, activity, state, attempt, max_attempts, available_at,
       lease_owner, lease_expires_at, error
FROM continuum_activity_tasks
WHERE run_id = %s AND state IN ('pending', 'leased')
ORDER BY command_seq
LIMIT %s;

-- name: children
SELECT id, workflow, state, started_at
FROM continuum_runs
WHERE parent_run_id = %s
ORDER BY started_at, id
LIMIT %s;

-- name: history_tail
SELECT seq, type, command, ref_seq, data, inserted_at
FROM continuum_events WHERE run_id = %s
ORDER BY seq DESC
LIMIT %s;

-- name: history_after
SELECT seq, type, command, ref_seq, data, inserted_at
FROM continuum_events WHERE run_id = %s AND seq > %s
ORDER BY seq
LIMIT %s;

-- name: history_before
SELECT seq, type, command, ref_seq, data, inserted_at
FROM continuum_events WHERE run_id = %s AND seq < %s
ORDER BY seq DESC
LIMIT %s;

-- name: reached_sites
-- Every distinct call site (kind, qualname, line offset) the run's journal has commands for.
SELECT DISTINCT command ->> 'kind' AS kind,
                command ->> 'qualname' AS qualname,
                (command ->> 'lineno')::integer AS lineno
FROM continuum_events
WHERE run_id = %s AND command IS NOT NULL;
