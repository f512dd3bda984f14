-- Named queries of the storage layer (continuum.db). Loaded by continuum.db.sqlfiles.
-- Placeholders in {braces} are identifiers, filled in with psycopg.sql.Identifier.

-- name: create_migrations_table
CREATE TABLE IF NOT EXISTS continuum_schema_migrations (
    version    text PRIMARY KEY,
    name       text NOT NULL,
    checksum   text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- name: migrations_table_exists
SELECT to_regclass('continuum_schema_migrations') IS NOT NULL AS present;

-- name: applied_migrations
SELECT version, checksum FROM continuum_schema_migrations ORDER BY version;

-- name: record_migration
INSERT INTO continuum_schema_migrations (version, name, checksum) VALUES (%s, %s, %s);

-- name: advisory_xact_lock
SELECT pg_advisory_xact_lock(%s);

-- name: events_table_exists
SELECT to_regclass('continuum_events') IS NOT NULL AS present;

-- name: current_month
-- First day of the current month, UTC, on the database clock.
SELECT date_trunc('month', now() AT TIME ZONE 'UTC')::date AS month;

-- name: list_partitions
-- Bounds come back as text; the '...+00' literal casts back exactly whatever TimeZone is.
SELECT n.nspname AS schema,
       c.relname AS name,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$FROM \('([^']+)'\)$$))[1]::timestamptz
           AS range_start,
       (regexp_match(pg_get_expr(c.relpartbound, c.oid), $$TO \('([^']+)'\)$$))[1]::timestamptz
           AS range_end,
       greatest(c.reltuples, 0)::bigint AS estimated_rows
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.inhparent = to_regclass('continuum_events')
ORDER BY range_start NULLS FIRST, c.relname;

-- name: count_rows
SELECT count(*) AS n FROM {partition};

-- name: create_partition
CREATE TABLE IF NOT EXISTS {partition} PARTITION OF continuum_events
    FOR VALUES FROM ({range_start}) TO ({range_end});

-- name: retention_configured
SELECT EXISTS (SELECT 1 FROM continuum_runs WHERE retention_until IS NOT NULL) AS configured;

-- name: partition_holds_retained_events
-- True when any event in the partition belongs to a run that must still be kept: its
-- retention_until is unset or in the future, or the run row is gone (we cannot tell).
SELECT EXISTS (
    SELECT 1
    FROM {partition} e
    LEFT JOIN continuum_runs r ON r.id = e.run_id
    WHERE r.retention_until IS NULL OR r.retention_until > now()
) AS retained;

-- name: partition_is_past
SELECT %s::timestamptz <= now() AS past;

-- name: lock_events_for_drop
LOCK TABLE continuum_events IN ACCESS EXCLUSIVE MODE;

-- name: set_local_lock_timeout
SELECT set_config('lock_timeout', %s, true);

-- name: drop_partition
DROP TABLE {partition};

-- name: database_exists
SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = %s) AS present;

-- name: database_comment
SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = %s;

-- name: advisory_lock
SELECT pg_advisory_lock(%s);

-- name: advisory_unlock
SELECT pg_advisory_unlock(%s);

-- name: create_database
CREATE DATABASE {database};

-- name: create_database_from_template
CREATE DATABASE {database} TEMPLATE {template} STRATEGY {strategy};

-- name: drop_database
DROP DATABASE IF EXISTS {database} WITH (FORCE);

-- name: mark_template
ALTER DATABASE {database} WITH IS_TEMPLATE {flag};

-- name: comment_database
COMMENT ON DATABASE {database} IS {comment};
