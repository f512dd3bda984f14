-- Named queries of the Postgres journal: loading and committing activations.

-- name: load_activations
-- Everything an activation reads, for every leased run in the list, in one statement:
-- the run (only under its current lease: a stale token sees no row and the caller
-- raises Fenced), its events, unconsumed mailbox, finished-but-unjournaled tasks and
-- finished children, each aggregated as a JSON array of positional rows. A child that
-- continued as new is finished only at its chain's tip, which carries the original
-- child id as correlation_id (and the same parent).
-- With a snapshot (the newest one of a format this node reads, %(formats)s), only the
-- events after it are read; unknown_format reports a newer snapshot it had to skip.
SELECT r.id, r.workflow, r.version_hash, r.input, r.last_seq, r.depth, r.trace_context,
       r.cancel_requested_at IS NOT NULL AS cancel_requested, now() AS now,
       r.started_at AS generation, snap.seq AS snapshot_seq, snap.format_version AS snapshot_format,
       snap.payload AS snapshot,
       (SELECT max(x.format_version) FROM continuum_snapshots x
         WHERE x.run_id = r.id AND x.seq > COALESCE(snap.seq, 0)
           AND x.format_version <> ALL(%(formats)s::smallint[])) AS unknown_format,
       r.cancel_grace_until, r.namespace, r.parent_run_id, r.correlation_id, r.attempt,
       (SELECT jsonb_agg(jsonb_build_array(u.id, u.name, u.payload) ORDER BY u.id)
          FROM continuum_updates u
         WHERE u.run_id = r.id AND u.accepted_at IS NULL) AS updates,
       (SELECT jsonb_agg(jsonb_build_array(e.seq, e.type, e.command, e.ref_seq, e.data)
                         ORDER BY e.seq)
          FROM continuum_events e
         WHERE e.run_id = r.id AND e.seq > COALESCE(snap.seq, 0)) AS events,
       (SELECT jsonb_agg(jsonb_build_array(s.id, s.name, s.payload) ORDER BY s.id)
          FROM continuum_signals s
         WHERE s.run_id = r.id AND s.consumed_at IS NULL) AS signals,
       (SELECT jsonb_agg(jsonb_build_array(t.command_seq, t.state = 'completed', t.result,
                                           t.error, t.attempt))
          FROM continuum_activity_tasks t
         WHERE t.run_id = r.id AND t.state IN ('completed', 'failed') AND NOT t.journaled)
           AS tasks,
       (SELECT jsonb_agg(jsonb_build_array(c.correlation_id, c.state, c.result, c.error))
          FROM continuum_runs c
         WHERE c.parent_run_id = r.id
           AND c.state IN ('completed', 'failed', 'cancelled')
           AND c.continued_to_run_id IS NULL) AS children
FROM unnest(%(ids)s::text[], %(tokens)s::bigint[]) AS l(id, token)
JOIN continuum_runs r ON r.id = l.id AND r.lease_token = l.token
LEFT JOIN LATERAL (
    SELECT s.seq, s.format_version, s.payload FROM continuum_snapshots s
    WHERE s.run_id = r.id AND s.format_version = ANY(%(formats)s::smallint[])
      AND s.seq <= r.last_seq
    ORDER BY s.seq DESC LIMIT 1
) AS snap ON true
WHERE r.state IN ('running', 'suspended');

-- name: load_activation_deltas
-- load_activations for runs this worker keeps parked in memory (sticky runs) at seq
-- %(after)s: the same row, but only the events after that seq (normally none: the run's
-- last_seq tells the worker whether its parked state is still current) and no snapshot.
-- Each run is fenced by its lease token; a NULL token (one run, sent in the same pipeline
-- as the statement that leases it to %(owner)s, so its token is not known yet) matches
-- the lease owner instead: the caller uses the row only when that claim succeeded, and
-- the run row stays locked by its transaction from the claim to the commit.
SELECT r.id, r.workflow, r.version_hash, r.input, r.last_seq, r.depth, r.trace_context,
       r.cancel_requested_at IS NOT NULL AS cancel_requested, now() AS now,
       r.started_at AS generation, l.after,
       r.cancel_grace_until, r.namespace, r.parent_run_id, r.correlation_id, r.attempt,
       (SELECT jsonb_agg(jsonb_build_array(u.id, u.name, u.payload) ORDER BY u.id)
          FROM continuum_updates u
         WHERE u.run_id = r.id AND u.accepted_at IS NULL) AS updates,
       (SELECT jsonb_agg(jsonb_build_array(e.seq, e.type, e.command, e.ref_seq, e.data)
                         ORDER BY e.seq)
          FROM continuum_events e
         WHERE e.run_id = r.id AND e.seq > l.after) AS events,
       (SELECT jsonb_agg(jsonb_build_array(s.id, s.name, s.payload) ORDER BY s.id)
          FROM continuum_signals s
         WHERE s.run_id = r.id AND s.consumed_at IS NULL) AS signals,
       (SELECT jsonb_agg(jsonb_build_array(t.command_seq, t.state = 'completed', t.result,
                                           t.error, t.attempt))
          FROM continuum_activity_tasks t
         WHERE t.run_id = r.id AND t.state IN ('completed', 'failed') AND NOT t.journaled)
           AS tasks,
       (SELECT jsonb_agg(jsonb_build_array(c.correlation_id, c.state, c.result, c.error))
          FROM continuum_runs c
         WHERE c.parent_run_id = r.id
           AND c.state IN ('completed', 'failed', 'cancelled')
           AND c.continued_to_run_id IS NULL) AS children
FROM unnest(%(ids)s::text[], %(tokens)s::bigint[], %(after)s::integer[]) AS l(id, token, after)
JOIN continuum_runs r ON r.id = l.id
 AND (r.lease_token = l.token OR (l.token IS NULL AND r.lease_owner = %(owner)s::text))
WHERE r.state IN ('running', 'suspended');

-- name: full_history
-- Every event of one run: the fallback when its snapshot cannot be decoded.
SELECT jsonb_agg(jsonb_build_array(e.seq, e.type, e.command, e.ref_seq, e.data)
                 ORDER BY e.seq) AS events
FROM continuum_events e WHERE e.run_id = %s;

-- name: parent_of
SELECT parent_run_id FROM continuum_runs WHERE id = %s;

-- name: lock_parent
SELECT id FROM continuum_runs WHERE id = %s FOR UPDATE;

-- name: insert_events
INSERT INTO continuum_events (run_id, seq, type, command, ref_seq, data)
SELECT %s, e.seq, e.type, e.command, e.ref_seq, COALESCE(e.data, '{}'::jsonb)
FROM jsonb_to_recordset(%s::jsonb) AS e(seq integer, type text, command jsonb, ref_seq integer,
                                        data jsonb);

-- name: insert_timers
INSERT INTO continuum_timers (run_id, seq, fire_at)
SELECT %s, t.seq, t.fire_at
FROM jsonb_to_recordset(%s::jsonb) AS t(seq integer, fire_at timestamptz)
ON CONFLICT (run_id, seq) DO NOTHING;

-- name: fire_timers
UPDATE continuum_timers SET fired = true WHERE run_id = %s AND seq = ANY(%s);

-- name: consume_signals
-- consumed_at IS NULL: a signal is consumed at most once, whoever races for it.
UPDATE continuum_signals AS s
SET consumed_at = now(), consumed_seq = c.seq
FROM jsonb_to_recordset(%s::jsonb) AS c(id bigint, seq integer)
WHERE s.id = c.id AND s.run_id = %s AND s.consumed_at IS NULL
RETURNING s.id;

-- name: mark_tasks_journaled
UPDATE continuum_activity_tasks SET journaled = true, updated_at = now()
WHERE run_id = %s AND command_seq = ANY(%s) AND state IN ('completed', 'failed');

-- name: insert_idempotent_results
INSERT INTO continuum_activity_results (activity, idempotency_key, result)
SELECT r.activity, r.key, COALESCE(r.result, 'null'::jsonb)
FROM jsonb_to_recordset(%s::jsonb) AS r(activity text, key text, result jsonb)
ON CONFLICT (activity, idempotency_key) DO NOTHING;

-- name: insert_children
-- jsonb_to_recordset turns a JSON null into SQL NULL, hence the COALESCE on payloads.
-- Children inherit namespace and attributes; correlation_id is the child's original id.
-- A child of a run on a queue waits on that queue (same priority) like any queued run.
INSERT INTO continuum_runs
    (id, workflow, version_hash, state, input, namespace, attributes, parent_run_id,
     parent_command_id, correlation_id, depth, next_wakeup_at, trace_context, queue, priority)
SELECT c.id, c.workflow, c.version_hash,
       CASE WHEN p.queue IS NULL THEN 'running' ELSE 'queued' END,
       COALESCE(c.input, 'null'::jsonb), p.namespace, p.attributes, p.id,
       c.command, c.id, p.depth + 1, CASE WHEN p.queue IS NULL THEN now() END,
       p.trace_context, p.queue, p.priority
FROM jsonb_to_recordset(%s::jsonb) AS c(id text, workflow text, version_hash text, input jsonb,
                                        command jsonb)
JOIN continuum_runs p ON p.id = %s
ON CONFLICT (id) DO NOTHING
RETURNING id, pg_notify(CASE WHEN queue IS NULL THEN 'continuum_run_wake'
                             ELSE 'continuum_queue_ready' END, COALESCE(queue, id));

-- name: insert_successor
-- A continue_as_new successor takes over its predecessor's queue slot (the predecessor
-- ends in the same transaction), so it starts at once and is not a new admission.
INSERT INTO continuum_runs
    (id, workflow, version_hash, state, input, namespace, attributes, parent_run_id,
     parent_command_id, correlation_id, continued_from_run_id, depth, cancel_requested_at,
     cancel_grace_until, attempt, trace_context, next_wakeup_at, queue, priority)
SELECT %(id)s, workflow, COALESCE(%(version_hash)s, version_hash), 'running',
       %(input)s::jsonb, namespace, attributes, parent_run_id, parent_command_id,
       correlation_id, id, depth, cancel_requested_at, cancel_grace_until, attempt + 1,
       trace_context, now(), queue, priority
FROM continuum_runs WHERE id = %(run_id)s
RETURNING id, pg_notify('continuum_run_wake', id);

-- name: move_signals
UPDATE continuum_signals SET run_id = %s WHERE run_id = %s AND consumed_at IS NULL;

-- name: move_children
UPDATE continuum_runs SET parent_run_id = %s, updated_at = now()
WHERE parent_run_id = %s AND state IN ('queued', 'running', 'suspended');

-- name: notify
SELECT pg_notify(%s, %s);
