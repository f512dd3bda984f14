-- Retention per run (seed v0.2: retention_until is opt-in, NULL by default) and the
-- snapshot lookup used on every resume.
--
-- continuum_runs.retention is how long a finished run is kept (client.start(retention=),
-- the workflow's or the worker's default). retention_until is derived from it when the
-- run finishes, whatever path finishes it (commit, cancel cascade, continue_as_new): a
-- trigger keeps that one rule in one place. Children and continue_as_new successors
-- inherit their parent's / predecessor's retention when they are created without one.

ALTER TABLE continuum_runs ADD COLUMN retention interval;

CREATE FUNCTION continuum_runs_retention_on_finish() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.finished_at IS NOT NULL AND OLD.finished_at IS NULL AND NEW.retention IS NOT NULL
       AND NEW.retention_until IS NULL THEN
        NEW.retention_until := NEW.finished_at + NEW.retention;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER continuum_runs_retention_on_finish
    BEFORE UPDATE OF finished_at ON continuum_runs
    FOR EACH ROW EXECUTE FUNCTION continuum_runs_retention_on_finish();

CREATE FUNCTION continuum_runs_inherit_retention() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.retention IS NULL THEN
        SELECT p.retention INTO NEW.retention FROM continuum_runs p
         WHERE p.id = COALESCE(NEW.continued_from_run_id, NEW.parent_run_id);
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER continuum_runs_inherit_retention
    BEFORE INSERT ON continuum_runs
    FOR EACH ROW
    WHEN (NEW.parent_run_id IS NOT NULL OR NEW.continued_from_run_id IS NOT NULL)
    EXECUTE FUNCTION continuum_runs_inherit_retention();

-- `continuum runs purge` walks expired runs in retention order.
CREATE INDEX continuum_runs_retention_until_idx ON continuum_runs (retention_until)
    WHERE retention_until IS NOT NULL;
