-- Continuum schema, version 0002: talking to running workflows (SPEC §13).
-- Events a workflow publishes, the update mailbox, and cooperative cancellation.

-- Published events: one current value per (chain, key); a continue_as_new chain shares
-- its correlation_id, so events follow the chain. Written in the activation's commit.
CREATE TABLE continuum_run_events (
    correlation_id text NOT NULL,
    key            text NOT NULL,
    value          jsonb NOT NULL,
    run_id         text NOT NULL,
    seq            integer NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (correlation_id, key)
);

-- Update requests (Client.update): a durable mailbox like continuum_signals, plus the
-- answer. accepted_* is set by the commit that journals update_received; answered_* by
-- the commit that journals the reply or rejection (each at most once).
CREATE TABLE continuum_updates (
    id           bigserial PRIMARY KEY,
    run_id       text NOT NULL,
    name         text NOT NULL,
    payload      jsonb NOT NULL,
    inserted_at  timestamptz NOT NULL DEFAULT now(),
    accepted_at  timestamptz,
    accepted_seq integer,
    answered_at  timestamptz,
    status       text
        CONSTRAINT continuum_updates_status_check CHECK (status IN ('replied', 'rejected')),
    answer       jsonb
);
CREATE INDEX continuum_updates_pending_idx ON continuum_updates (run_id, id)
    WHERE accepted_at IS NULL;

-- Cooperative cancellation: Cancelled is delivered into the workflow until this moment,
-- then the run is hard-cancelled. NULL with cancel_requested_at set: immediate cancel.
ALTER TABLE continuum_runs ADD COLUMN cancel_grace_until timestamptz;
-- Position in the continue_as_new chain (continuum.info().attempt).
ALTER TABLE continuum_runs ADD COLUMN attempt integer NOT NULL DEFAULT 1;
