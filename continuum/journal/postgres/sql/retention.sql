-- Named queries of the Postgres journal: how long finished runs are kept.

-- name: set_retention
-- In the transaction that inserted the run; retention_until follows when it finishes
-- (trigger of migration 0004).
UPDATE continuum_runs SET retention = make_interval(secs => %s) WHERE id = %s;

-- name: default_retention
-- A worker's default for runs that finished without a retention of their own. Not
-- fenced: it only touches finished runs, and losing it keeps a run longer, never shorter.
UPDATE continuum_runs
SET retention = make_interval(secs => %(seconds)s),
    retention_until = finished_at + make_interval(secs => %(seconds)s)
WHERE id = ANY(%(ids)s::text[]) AND finished_at IS NOT NULL AND retention IS NULL
  AND retention_until IS NULL;
