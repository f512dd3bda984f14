"""``continuum replay --against-current``: would open runs survive the code you built?

Every open run's journal is replayed, offline, against the *current* frozen version of
its workflow. With content-addressed versions an in-flight run keeps resuming on its own
frozen code whatever you deploy, so this answers a different question: is the new code
replay-compatible with those histories? If yes, the change could have been made in
place; if not, the drift message names the first command that no longer matches — the
place a ``patched()`` branch would go if the old histories must run the new code.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

import psycopg
from psycopg.rows import dict_row
from pydantic import BaseModel

from continuum.definitions.versions import VersionRegistry
from continuum.definitions.workflow import Workflow
from continuum.engine.replay import ReplayOutcome, replay
from continuum.errors import ReplayDriftError
from continuum.ops.queries import query

CompatStatus = Literal["ok", "drift", "fails", "no_current", "error"]

_PAGE = 500


class CompatResult(BaseModel):
    """The verdict for one open run.

    ``status``: ``ok`` (replays cleanly), ``drift`` (a :class:`ReplayDriftError`),
    ``fails`` (the current code raises on the history while the run's own version does
    not), ``no_current`` (the workflow is not in the manifest any more; its runs resume
    on their frozen version only), ``error`` (the history could not be replayed at all).
    """

    run_id: str
    workflow: str
    run_version_hash: str
    current_hash: str | None
    status: CompatStatus
    message: str = ""

    @property
    def compatible(self) -> bool:
        """Whether this run does not block the change (``ok`` or ``no_current``)."""
        return self.status in ("ok", "no_current")


def _current_versions(registry: VersionRegistry) -> dict[str, str]:
    return {v.workflow: v.version_hash for v in registry.versions() if v.current}


def _open_runs(conn: psycopg.Connection[Any], workflow: str | None) -> Iterator[dict[str, Any]]:
    after = ""
    while True:
        with conn.cursor(row_factory=dict_row) as cur:
            page = cur.execute(
                query("open_run_page"), {"workflow": workflow, "after": after, "limit": _PAGE}
            ).fetchall()
        yield from page
        if len(page) < _PAGE:
            return
        after = page[-1]["id"]


def load_history(conn: psycopg.Connection[Any], run_id: str) -> list[dict[str, Any]]:
    """A run's events as the JSON-ready dicts :func:`continuum.testing.replay` accepts."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query("run_events"), {"run_id": run_id}).fetchall()
    keys = ("seq", "type", "command", "ref_seq", "data")
    return [{key: row[key] for key in keys} for row in rows]


def _failed(outcome: ReplayOutcome) -> str:
    error = outcome.error or {}
    return f"{error.get('type', 'error')}: {error.get('message', '')}".strip()


def check_run(
    registry: VersionRegistry,
    run: dict[str, Any],
    history: list[dict[str, Any]],
    current_hash: str | None,
) -> CompatResult:
    """Replay one run's ``history`` against the current version of its workflow."""
    base = {
        "run_id": run["id"],
        "workflow": run["workflow"],
        "run_version_hash": run["version_hash"],
        "current_hash": current_hash,
    }
    flow = registry.resolve(run["workflow"], current_hash) if current_hash else None
    if current_hash is None:
        message = "workflow not in the manifest; its runs resume on their frozen version"
        return CompatResult(**base, status="no_current", message=message)
    if flow is None:
        message = f"the current version {current_hash} cannot be imported; run `continuum build`"
        return CompatResult(**base, status="error", message=message)
    if not history:
        return CompatResult(**base, status="ok", message="not started yet: nothing recorded")
    try:
        outcome = replay(flow, history)
        if outcome.state == "failed" and not _own_version_fails(registry, run, flow, history):
            return CompatResult(**base, status="fails", message=_failed(outcome))
    except ReplayDriftError as exc:
        return CompatResult(**base, status="drift", message=str(exc))
    except Exception as exc:  # a history the replayer cannot read is a finding, not a crash
        return CompatResult(**base, status="error", message=f"{type(exc).__name__}: {exc}")
    return CompatResult(**base, status="ok")


def _own_version_fails(
    registry: VersionRegistry,
    run: dict[str, Any],
    current: Workflow[Any, Any],
    history: list[dict[str, Any]],
) -> bool:
    # A run whose next step fails on its own code too is not made worse by the change.
    own = registry.resolve(run["workflow"], run["version_hash"])
    if own is None or own is current:
        return own is current
    try:
        return replay(own, history).state == "failed"
    except Exception:
        return False


def iter_check_against_current(
    conn: psycopg.Connection[Any], registry: VersionRegistry, *, workflow: str | None = None
) -> Iterator[CompatResult]:
    """Like :func:`check_against_current`, one result at a time (for progress output)."""
    current = _current_versions(registry)
    for run in _open_runs(conn, workflow):
        history = load_history(conn, run["id"])
        yield check_run(registry, run, history, current.get(run["workflow"]))


def check_against_current(
    conn: psycopg.Connection[Any], registry: VersionRegistry, *, workflow: str | None = None
) -> list[CompatResult]:
    """Replay every open run (of ``workflow``, or all) against its workflow's current version.

    Read-only. Runs are visited in id order, one journal in memory at a time.
    """
    return list(iter_check_against_current(conn, registry, workflow=workflow))
