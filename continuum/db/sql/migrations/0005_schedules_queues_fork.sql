-- Continuum schema, version 0005: schedules (SPEC §14), queues (§15), fork (§16).

-- Queues: a run started on a queue waits in state 'queued' until admitted.
ALTER TABLE continuum_runs DROP CONSTRAINT continuum_runs_state_check;
ALTER TABLE continuum_runs ADD CONSTRAINT continuum_runs_state_check
    CHECK (state IN ('queued', 'running', 'suspended', 'completed', 'failed', 'cancelled'));
ALTER TABLE continuum_runs ADD COLUMN queue text;
ALTER TABLE continuum_runs ADD COLUMN priority integer NOT NULL DEFAULT 0;
-- When the queue let the run start (rate limits count these); NULL for unqueued runs
-- and for continue_as_new successors, which inherit their predecessor's slot.
ALTER TABLE continuum_runs ADD COLUMN admitted_at timestamptz;
ALTER TABLE continuum_runs ADD COLUMN forked_from_run_id text;
ALTER TABLE continuum_runs ADD COLUMN forked_at_seq integer;

-- Admission order: per queue, lowest priority value first, then oldest.
CREATE INDEX continuum_runs_queued_idx ON continuum_runs (queue, priority, started_at, id)
    WHERE state = 'queued';
-- Concurrency counts: runs of a queue that started and are not terminal.
CREATE INDEX continuum_runs_queue_active_idx ON continuum_runs (queue)
    WHERE queue IS NOT NULL AND state IN ('running', 'suspended');
-- Rate limits count admissions inside the window.
CREATE INDEX continuum_runs_queue_admitted_idx ON continuum_runs (queue, admitted_at)
    WHERE admitted_at IS NOT NULL;

-- A queue's limits; its row is also the admission lock (one admitter at a time).
CREATE TABLE continuum_queues (
    name              text PRIMARY KEY,
    concurrency       integer CHECK (concurrency IS NULL OR concurrency >= 1),
    rate_limit        integer CHECK (rate_limit IS NULL OR rate_limit >= 1),
    rate_period       interval,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((rate_limit IS NULL) = (rate_period IS NULL))
);

-- A finished queued run frees a slot: tell the admitters (ids only in the payload).
CREATE FUNCTION continuum_queue_slot_freed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('continuum_queue_ready', NEW.queue);
    RETURN NULL;
END;
$$;
CREATE TRIGGER continuum_runs_queue_slot_freed
    AFTER UPDATE OF state ON continuum_runs
    FOR EACH ROW
    WHEN (OLD.queue IS NOT NULL
          AND OLD.state IN ('running', 'suspended')
          AND NEW.state IN ('completed', 'failed', 'cancelled'))
    EXECUTE FUNCTION continuum_queue_slot_freed();

-- Schedules: fired by any worker (FOR UPDATE SKIP LOCKED); one run per tick, whose id
-- is '<schedule id>@<tick>' so a tick can never start twice.
CREATE TABLE continuum_schedules (
    id           text PRIMARY KEY,
    workflow     text NOT NULL,
    version_hash text NOT NULL,
    input        jsonb NOT NULL,
    namespace    text NOT NULL DEFAULT 'default',
    cron         text,
    every        interval,
    timezone     text NOT NULL DEFAULT 'UTC',
    overlap      text NOT NULL DEFAULT 'skip' CHECK (overlap IN ('skip', 'allow')),
    catchup      interval,
    queue        text,
    priority     integer NOT NULL DEFAULT 0,
    anchor       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    paused       boolean NOT NULL DEFAULT false,
    next_fire_at timestamptz NOT NULL,
    last_tick    timestamptz,
    last_run_id  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((cron IS NULL) <> (every IS NULL))
);
CREATE INDEX continuum_schedules_due_idx ON continuum_schedules (next_fire_at) WHERE NOT paused;
