-- Named queries of the Postgres journal: snapshots (continuum.engine.snapshot).

-- name: save_snapshot
-- Only for events that are committed (last_seq has reached the snapshot's seq): a
-- snapshot holds nothing but already-journaled, immutable events, so it needs no lease.
INSERT INTO continuum_snapshots (run_id, seq, format_version, payload)
SELECT r.id, %(seq)s, %(format_version)s, %(payload)s::jsonb
FROM continuum_runs r
WHERE r.id = %(run_id)s AND r.last_seq >= %(seq)s
ON CONFLICT (run_id, seq) DO NOTHING
RETURNING seq;

-- name: prune_snapshots
-- Keep the newest %(keep)s snapshots of the run (an older one is the fallback if the
-- newest turns out unreadable).
DELETE FROM continuum_snapshots s
WHERE s.run_id = %(run_id)s
  AND s.seq < (SELECT min(k.seq) FROM (
        SELECT seq FROM continuum_snapshots WHERE run_id = %(run_id)s
        ORDER BY seq DESC LIMIT %(keep)s) AS k);
