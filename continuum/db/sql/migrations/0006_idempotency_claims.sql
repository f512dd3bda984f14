-- Idempotency keys hold under concurrency (issue 19): before an activity body with an
-- idempotency key runs, its attempt claims the key here. A claim is live while the task
-- attempt that holds it is still leased under the same token; any other attempt with the
-- same key waits for that holder's committed result instead of running the body again.
-- A crashed holder's claim dies with its lease and the next attempt takes it over.
CREATE TABLE continuum_idempotency_claims (
    activity        text NOT NULL,
    idempotency_key text NOT NULL,
    task_id         bigint NOT NULL,
    attempt         integer NOT NULL,
    lease_token     bigint NOT NULL,
    claimed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (activity, idempotency_key)
);
