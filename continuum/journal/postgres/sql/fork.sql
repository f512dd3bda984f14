-- Named queries of the Postgres journal: fork (SPEC §16).

-- name: insert_fork
-- The forked run starts due (or queued) with last_seq at the end of the copied journal.
INSERT INTO continuum_runs AS r
    (id, workflow, version_hash, state, input, namespace, attributes, correlation_id,
     trace_context, next_wakeup_at, last_seq, queue, priority, forked_from_run_id,
     forked_at_seq)
SELECT %(id)s, s.workflow, %(version_hash)s,
       CASE WHEN s.queue IS NULL THEN 'running' ELSE 'queued' END,
       s.input, s.namespace, s.attributes, %(id)s, s.trace_context,
       CASE WHEN s.queue IS NULL THEN now() END, %(last_seq)s, s.queue, s.priority,
       s.id, %(at_seq)s
FROM continuum_runs s WHERE s.id = %(source)s
ON CONFLICT (id) DO NOTHING
RETURNING r.id, r.queue;

-- name: copy_events
INSERT INTO continuum_events (run_id, seq, type, command, ref_seq, data)
SELECT %(id)s, seq, type, command, ref_seq, data
FROM continuum_events
WHERE run_id = %(source)s AND seq <= %(at_seq)s AND NOT (type = ANY(%(terminal)s));

-- name: insert_pending_task
INSERT INTO continuum_activity_tasks
    (run_id, command_seq, kind, activity, args, idempotency_key, state, max_attempts,
     timeout_ms, backoff, heartbeat_timeout_ms)
VALUES (%(run_id)s, %(seq)s, %(kind)s, %(activity)s, %(args)s::jsonb, %(key)s, 'pending',
        %(max_attempts)s, %(timeout_ms)s, %(backoff)s::jsonb, %(heartbeat_timeout_ms)s);

-- name: insert_timer
INSERT INTO continuum_timers (run_id, seq, fire_at) VALUES (%s, %s, %s);
