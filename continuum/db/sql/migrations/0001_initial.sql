-- Continuum schema, version 0001: every table of SPEC §6.
-- Applied by continuum.db.migrate inside one transaction, under an advisory lock.
-- Monthly partitions of continuum_events are created right after, by ensure_partitions.

CREATE SEQUENCE continuum_lease_token_seq;

CREATE TABLE continuum_runs (
    id                    text PRIMARY KEY,
    workflow              text NOT NULL,
    version_hash          text NOT NULL,
    state                 text NOT NULL
        CONSTRAINT continuum_runs_state_check
        CHECK (state IN ('running', 'suspended', 'completed', 'failed', 'cancelled')),
    input                 jsonb NOT NULL,
    result                jsonb,
    error                 jsonb,
    lease_owner           text,
    lease_token           bigint,
    lease_expires_at      timestamptz,
    next_wakeup_at        timestamptz,
    namespace             text NOT NULL DEFAULT 'default',
    attributes            jsonb NOT NULL DEFAULT '{}',
    parent_run_id         text,
    parent_command_id     jsonb,
    correlation_id        text NOT NULL,
    continued_from_run_id text,
    continued_to_run_id   text,
    depth                 integer NOT NULL DEFAULT 0,
    cancel_requested_at   timestamptz,
    trace_context         text,
    retention_until       timestamptz,
    last_seq              integer NOT NULL DEFAULT 0,
    started_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    finished_at           timestamptz
);

-- The run dispatcher's claim path: active runs ordered by when they next need a worker.
CREATE INDEX continuum_runs_runnable_idx ON continuum_runs (next_wakeup_at)
    WHERE state IN ('running', 'suspended');
CREATE INDEX continuum_runs_namespace_state_idx ON continuum_runs (namespace, state);
CREATE INDEX continuum_runs_attributes_gin_idx ON continuum_runs USING gin (attributes);
CREATE INDEX continuum_runs_correlation_idx ON continuum_runs (correlation_id);
CREATE INDEX continuum_runs_parent_idx ON continuum_runs (parent_run_id)
    WHERE parent_run_id IS NOT NULL;
CREATE INDEX continuum_runs_continued_from_idx ON continuum_runs (continued_from_run_id)
    WHERE continued_from_run_id IS NOT NULL;
CREATE INDEX continuum_runs_correlation_completed_idx ON continuum_runs (correlation_id, finished_at)
    WHERE state = 'completed';
CREATE INDEX continuum_runs_lease_owner_idx ON continuum_runs (lease_owner)
    WHERE lease_owner IS NOT NULL;

-- The journal. Partitioning needs the partition key in the primary key, so SQL only
-- guarantees (run_id, seq, inserted_at); (run_id, seq) stays unique because seq is
-- assigned under the continuum_runs row lock (seed v0.2 note).
CREATE TABLE continuum_events (
    run_id      text NOT NULL,
    seq         integer NOT NULL,
    inserted_at timestamptz NOT NULL DEFAULT now(),
    type        text NOT NULL,
    command     jsonb,
    ref_seq     integer,
    data        jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, seq, inserted_at)
) PARTITION BY RANGE (inserted_at);

-- Durable signal mailbox.
CREATE TABLE continuum_signals (
    id           bigserial PRIMARY KEY,
    run_id       text NOT NULL,
    name         text NOT NULL,
    payload      jsonb NOT NULL,
    inserted_at  timestamptz NOT NULL DEFAULT now(),
    consumed_at  timestamptz,
    consumed_seq integer
);
CREATE INDEX continuum_signals_pending_idx ON continuum_signals (run_id, id)
    WHERE consumed_at IS NULL;

CREATE TABLE continuum_timers (
    run_id  text NOT NULL,
    seq     integer NOT NULL,
    fire_at timestamptz NOT NULL,
    fired   boolean NOT NULL DEFAULT false,
    PRIMARY KEY (run_id, seq)
);
CREATE INDEX continuum_timers_due_idx ON continuum_timers (fire_at) WHERE NOT fired;

CREATE TABLE continuum_activity_tasks (
    id               bigserial PRIMARY KEY,
    run_id           text NOT NULL,
    command_seq      integer NOT NULL,
    kind             text NOT NULL DEFAULT 'activity',
    activity         text NOT NULL,
    args             jsonb NOT NULL,
    idempotency_key  text,
    state            text NOT NULL
        CONSTRAINT continuum_activity_tasks_state_check
        CHECK (state IN ('pending', 'leased', 'completed', 'failed', 'discarded')),
    attempt          integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL,
    timeout_ms       bigint,
    backoff          jsonb NOT NULL DEFAULT '{}',
    available_at     timestamptz NOT NULL DEFAULT now(),
    lease_owner      text,
    lease_token      bigint,
    lease_expires_at timestamptz,
    result           jsonb,
    error            jsonb,
    journaled        boolean NOT NULL DEFAULT false,
    inserted_at      timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT continuum_activity_tasks_run_command_key UNIQUE (run_id, command_seq)
);
-- The activity dispatcher's claim path.
CREATE INDEX continuum_activity_tasks_claim_idx ON continuum_activity_tasks (available_at, id)
    WHERE state = 'pending';
CREATE INDEX continuum_activity_tasks_lease_expiry_idx ON continuum_activity_tasks (lease_expires_at)
    WHERE state = 'leased';
-- Finished tasks whose outcome is not yet in the journal.
CREATE INDEX continuum_activity_tasks_unjournaled_idx ON continuum_activity_tasks (run_id)
    WHERE state IN ('completed', 'failed') AND NOT journaled;

-- Idempotency side table: one stored result per (activity, key), reused across runs.
CREATE TABLE continuum_activity_results (
    activity        text NOT NULL,
    idempotency_key text NOT NULL,
    result          jsonb NOT NULL,
    inserted_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (activity, idempotency_key)
);

CREATE TABLE continuum_snapshots (
    run_id         text NOT NULL,
    seq            integer NOT NULL,
    format_version smallint NOT NULL DEFAULT 1,
    payload        jsonb NOT NULL,
    inserted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, seq)
);

CREATE TABLE continuum_workflow_versions (
    workflow      text NOT NULL,
    version_hash  text NOT NULL,
    entrypoint    text NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (workflow, version_hash)
);

CREATE TABLE continuum_workers (
    id           text PRIMARY KEY,
    instance     text NOT NULL,
    host         text NOT NULL,
    pid          integer NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    versions     jsonb NOT NULL DEFAULT '[]'
);
