"""``continuum audit``, ``gc-versions`` and ``archive-continued-chains`` on real Postgres."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import psycopg
from click.testing import CliRunner
from psycopg.types.json import Jsonb
from test_versions_harness import (
    V1,
    V2_PATCHED,
    V3,
    WORKFLOW,
    Project,
    conn,
    insert_run,
    insert_worker,
    project,
)

from continuum.cli.version_commands import archive_command, audit_command, gc_versions_command
from continuum.ops import (
    archive_continued_chains,
    audit,
    gc_project_versions,
    gc_versions_db,
    pinned_versions,
    register_versions,
)

__all__ = ["conn", "project"]  # fixtures

UNKNOWN = "f" * 16


def insert_patched_marker(conn: psycopg.Connection[Any], run_id: str, patch_id: str) -> None:
    conn.execute(
        "INSERT INTO continuum_events (run_id, seq, type, command, data) VALUES (%s, 5, "
        "'patched', %s, %s)",
        (
            run_id,
            Jsonb(
                {
                    "kind": "patched",
                    "qualname": "greet",
                    "lineno": 3,
                    "ordinal": 0,
                    "target": patch_id,
                }
            ),
            Jsonb({"patch_id": patch_id, "value": True}),
        ),
    )


def insert_expired_task(conn: psycopg.Connection[Any], run_id: str, *, ago: timedelta) -> None:
    conn.execute(
        "INSERT INTO continuum_activity_tasks (run_id, command_seq, activity, args, state, "
        "max_attempts, lease_owner, lease_token, lease_expires_at) "
        "VALUES (%s, 2, 'charge', '{}', 'leased', 1, 'w-gone', 7, now() - %s::interval)",
        (run_id, ago),
    )


# -- audit ---------------------------------------------------------------------------
def test_patch_site_is_in_use_while_an_open_run_predates_it(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    v1 = project.build(V1)
    v2 = project.build(V2_PATCHED)
    insert_run(conn, "r-old", v1)  # started before the patch, never passed it
    insert_run(conn, "r-new", v2)  # on a version that has the site: never predates it

    [site] = audit(conn, project.registry(), project_root=project.root).patch_sites

    assert (site.patch_id, site.version_hash, site.verdict) == ("shout", v2, "in_use")
    assert (site.predating_runs, site.sample_run_ids) == (1, ["r-old"])
    assert site.function == "vapp.flows:greet" and site.line == 7


def test_patch_site_is_safe_to_remove_once_every_open_run_passed_or_postdates_it(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    v1 = project.build(V1)
    v2 = project.build(V2_PATCHED)
    insert_run(conn, "r-old-marked", v1)
    insert_patched_marker(conn, "r-old-marked", "shout")
    insert_run(conn, "r-old-done", v1, state="completed")  # closed runs don't count
    insert_run(conn, "r-new", v2)

    report = audit(conn, project.registry(), project_root=project.root)

    [site] = report.patch_sites
    assert (site.verdict, site.predating_runs) == ("safe_to_remove", 0)
    assert any("safe to remove" in p for p in report.strict_problems)


def test_open_runs_on_a_version_nobody_can_load_are_reported_unless_a_live_worker_has_it(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    project.build(V1)
    insert_run(conn, "r-lost", UNKNOWN)
    insert_run(conn, "r-lost-2", UNKNOWN)
    insert_worker(conn, "w-stale", [f"{WORKFLOW}@{UNKNOWN}"], heartbeat_ago=timedelta(hours=1))

    [group] = audit(conn, project.registry(), project_root=project.root).unloadable_runs
    assert (group.version_hash, group.runs) == (UNKNOWN, 2)
    assert group.sample_run_ids == ["r-lost", "r-lost-2"]

    insert_worker(conn, "w-live", [f"{WORKFLOW}@{UNKNOWN}"], heartbeat_ago=timedelta(0))
    report = audit(conn, project.registry(), project_root=project.root)
    assert report.unloadable_runs == []
    assert [w.id for w in report.live_workers] == ["w-live"]
    status = {v.version_hash: v for v in report.versions}
    assert (status[UNKNOWN].live_workers, status[UNKNOWN].in_manifest) == (1, False)
    assert not status[UNKNOWN].loadable  # by this process; the live worker can


def test_workers_listing_versions_as_pairs_are_understood(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    project.build(V1)
    insert_run(conn, "r-lost", UNKNOWN)
    insert_worker(conn, "w-old-shape", [[WORKFLOW, UNKNOWN]], heartbeat_ago=timedelta(0))
    assert audit(conn, project.registry(), project_root=project.root).unloadable_runs == []


def test_audit_json_reports_every_section_and_strict_exits_one_on_problems(
    project: Project, conn: psycopg.Connection[Any], pg_dsn: str
) -> None:
    v1 = project.build(V1)
    v3 = project.build(V3)
    register_versions(conn, project.registry(), instance="default")
    insert_run(conn, "r-v1", v1)
    insert_run(conn, "r-lost", UNKNOWN)
    insert_expired_task(conn, "r-v1", ago=timedelta(minutes=5))
    insert_worker(conn, "w-live", [f"{WORKFLOW}@{v3}"], heartbeat_ago=timedelta(0))

    args = ["--dsn", pg_dsn, "--project", str(project.root), "--format", "json"]
    result = CliRunner().invoke(audit_command, [*args, "--strict"])

    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert set(data) == {
        "checked_at",
        "manifest",
        "versions",
        "live_workers",
        "patch_sites",
        "unloadable_runs",
        "expired_leased_tasks",
        "expired_leased_tasks_total",
        "ok",
        "strict_problems",
    }
    assert data["ok"] is False
    versions = {v["version_hash"]: v for v in data["versions"]}
    assert versions[v1]["open_runs"] == 1 and not versions[v1]["current"]
    assert versions[v3]["current"] and versions[v3]["live_workers"] == 1
    assert versions[v3]["registered_at"] is not None and versions[v3]["loadable"]
    assert [g["version_hash"] for g in data["unloadable_runs"]] == [UNKNOWN]
    [task] = data["expired_leased_tasks"]
    assert (task["run_id"], task["activity"], task["lease_owner"]) == ("r-v1", "charge", "w-gone")
    assert task["expired_for_s"] >= 299
    assert len(data["strict_problems"]) == 2
    assert "strict: " in result.stderr

    assert CliRunner().invoke(audit_command, args).exit_code == 0  # without --strict


def test_audit_strict_passes_on_a_clean_database(
    project: Project, conn: psycopg.Connection[Any], pg_dsn: str
) -> None:
    v1 = project.build(V1)
    insert_run(conn, "r-v1", v1)
    insert_expired_task(conn, "r-v1", ago=timedelta(minutes=-5))  # lease still valid
    result = CliRunner().invoke(
        audit_command, ["--dsn", pg_dsn, "--project", str(project.root), "--strict"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.rstrip().endswith("ok")


def test_audit_reports_an_unmigrated_database_in_one_line(project: Project, empty_db: str) -> None:
    project.build(V1)
    result = CliRunner().invoke(audit_command, ["--dsn", empty_db, "--project", str(project.root)])
    assert result.exit_code == 1
    assert "continuum migrate" in result.stderr and "Traceback" not in result.output


# -- gc-versions ---------------------------------------------------------------------
def test_gc_never_deletes_a_pinned_version_and_deletes_unpinned_only_with_execute(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    pinned = project.build(V1)
    unpinned = project.build(V3)
    current = project.build(V2_PATCHED)
    registry = project.registry()
    register_versions(conn, registry, instance="default")
    insert_run(conn, "r-pinned", pinned, state="running")
    insert_run(conn, "r-done", unpinned, state="completed")  # finished runs don't pin

    assert pinned_versions(conn) == {pinned}

    dry = gc_project_versions(conn, registry, project_root=project.root)
    assert [r.version_hash for r in dry.database.removable] == [unpinned]
    assert {(r.version_hash, r.reason) for r in dry.database.kept} == {
        (pinned, "pinned"),
        (current, "current"),
    }
    assert project.frozen_file(unpinned).exists()
    assert project.manifest_hashes() == {pinned, unpinned, current}
    assert _db_hashes(conn) == {pinned, unpinned, current}

    done = gc_project_versions(conn, registry, project_root=project.root, execute=True)

    assert [r.version_hash for r in done.database.deleted] == [unpinned]
    assert done.files is not None and len(done.files.deleted_files) == 1
    assert not project.frozen_file(unpinned).exists()
    assert project.frozen_file(pinned).exists() and project.frozen_file(current).exists()
    assert project.manifest_hashes() == {pinned, current}
    assert _db_hashes(conn) == {pinned, current}


def test_gc_keeps_versions_that_live_workers_advertise(
    project: Project, conn: psycopg.Connection[Any]
) -> None:
    old = project.build(V1)
    project.build(V3)
    register_versions(conn, project.registry(), instance="default")
    insert_worker(conn, "w-live", [f"{WORKFLOW}@{old}"], heartbeat_ago=timedelta(0))

    report = gc_versions_db(conn, project.registry(), execute=True)
    assert report.deleted == []
    assert ("live_worker", old) in {(r.reason, r.version_hash) for r in report.kept}


def test_gc_cli_is_a_dry_run_until_execute(
    project: Project, conn: psycopg.Connection[Any], pg_dsn: str
) -> None:
    old = project.build(V1)
    project.build(V3)
    register_versions(conn, project.registry(), instance="default")
    args = ["--dsn", pg_dsn, "--project", str(project.root)]

    dry = CliRunner().invoke(gc_versions_command, args)
    assert dry.exit_code == 0, dry.output
    assert f"would delete row {WORKFLOW}@{old}" in dry.stdout
    assert "pass --execute" in dry.stdout
    assert project.frozen_file(old).exists() and old in _db_hashes(conn)

    done = CliRunner().invoke(gc_versions_command, [*args, "--execute", "--format", "json"])
    assert done.exit_code == 0, done.output
    data = json.loads(done.stdout)
    assert data["executed"] is True
    assert [r["version_hash"] for r in data["database"]["deleted"]] == [old]
    assert not project.frozen_file(old).exists() and old not in _db_hashes(conn)


def _db_hashes(conn: psycopg.Connection[Any]) -> set[str]:
    rows = conn.execute("SELECT version_hash FROM continuum_workflow_versions").fetchall()
    return {str(r[0]) for r in rows}


# -- archive-continued-chains --------------------------------------------------------
def _chain(conn: psycopg.Connection[Any]) -> None:
    """root -> middle -> tip, plus an old finished run that never continued."""
    day = timedelta(days=1)
    insert_run(
        conn,
        "c-root",
        "h",
        state="completed",
        correlation_id="c-root",
        continued_to="c-middle",
        finished_ago=40 * day,
    )
    insert_run(
        conn,
        "c-middle",
        "h",
        state="completed",
        correlation_id="c-root",
        continued_to="c-tip",
        finished_ago=10 * day,
    )
    insert_run(conn, "c-tip", "h", state="running", correlation_id="c-root")
    insert_run(conn, "c-ended", "h", state="completed", finished_ago=40 * day)
    for run_id in ("c-root", "c-middle", "c-tip"):
        conn.execute(
            "INSERT INTO continuum_events (run_id, seq, type, data) VALUES (%s, 1, "
            "'run_started', '{}'), (%s, 2, 'run_completed', '{}')",
            (run_id, run_id),
        )
        conn.execute(
            "INSERT INTO continuum_signals (run_id, name, payload) VALUES (%s, 's', '1')",
            (run_id,),
        )
        conn.execute(
            "INSERT INTO continuum_timers (run_id, seq, fire_at) VALUES (%s, 3, now())", (run_id,)
        )
        conn.execute(
            "INSERT INTO continuum_activity_tasks (run_id, command_seq, activity, args, state, "
            "max_attempts) VALUES (%s, 4, 'a', '{}', 'completed', 1)",
            (run_id,),
        )
        conn.execute(
            "INSERT INTO continuum_snapshots (run_id, seq, payload) VALUES (%s, 2, '{}')",
            (run_id,),
        )
    conn.execute(
        "INSERT INTO continuum_updates (run_id, name, payload, accepted_at, answered_at,"
        " status, answer) VALUES ('c-root', 'u', '1', now(), now(), 'replied', '2')"
    )


def _remaining(conn: psycopg.Connection[Any]) -> dict[str, set[str]]:
    tables = ("runs", "events", "signals", "timers", "activity_tasks", "snapshots")
    out: dict[str, set[str]] = {}
    for table in tables:
        column = "id" if table == "runs" else "run_id"
        rows = conn.execute(f"SELECT DISTINCT {column} FROM continuum_{table}").fetchall()
        out[table] = {str(r[0]) for r in rows}
    return out


def test_archive_deletes_only_expired_non_tail_chain_members_and_their_rows(
    conn: psycopg.Connection[Any],
) -> None:
    _chain(conn)
    before = _remaining(conn)

    dry = archive_continued_chains(conn, older_than=timedelta(days=30))
    assert (dry.executed, dry.candidates) == (False, 1)
    assert [(m.id, m.events) for m in dry.sample] == [("c-root", 2)]
    assert _remaining(conn) == before

    done = archive_continued_chains(conn, older_than=timedelta(days=30), execute=True)
    assert done.deleted_run_ids == ["c-root"]
    assert done.deleted == {
        "runs": 1,
        "events": 2,
        "signals": 1,
        "timers": 1,
        "tasks": 1,
        "snapshots": 1,
        "updates": 1,
        "idempotency_claims": 0,
    }
    after = _remaining(conn)
    assert after["runs"] == {"c-middle", "c-tip", "c-ended"}
    for table in ("events", "signals", "timers", "activity_tasks", "snapshots"):
        assert after[table] == {"c-middle", "c-tip"}, table


def test_archive_never_touches_the_live_tip_however_old(conn: psycopg.Connection[Any]) -> None:
    _chain(conn)
    report = archive_continued_chains(conn, older_than=timedelta(0), execute=True)
    assert sorted(report.deleted_run_ids) == ["c-middle", "c-root"]
    assert _remaining(conn)["runs"] == {"c-tip", "c-ended"}


def test_archive_cli_parses_the_age_and_is_a_dry_run_by_default(
    conn: psycopg.Connection[Any], pg_dsn: str
) -> None:
    _chain(conn)
    dry = CliRunner().invoke(archive_command, ["--older-than", "30d", "--dsn", pg_dsn])
    assert dry.exit_code == 0, dry.output
    assert "would delete c-root" in dry.stdout and "1 expired non-tail run(s)" in dry.stdout

    done = CliRunner().invoke(
        archive_command,
        ["--older-than", "5d", "--execute", "--dsn", pg_dsn, "--format", "json"],
    )
    assert done.exit_code == 0, done.output
    assert sorted(json.loads(done.stdout)["deleted_run_ids"]) == ["c-middle", "c-root"]

    bad = CliRunner().invoke(archive_command, ["--older-than", "soon", "--dsn", pg_dsn])
    assert bad.exit_code == 2 and "not a duration" in bad.stderr
