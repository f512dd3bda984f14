"""What the Observer's pages and JSON show, read through the client and its journal.

No SQL here: runs come from :meth:`PostgresJournal.query` / :meth:`Client.get_run`, the
rest from the journal's inspection methods (``run_detail``, ``history_window``,
``reached_sites``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from continuum.client.client import Client
from continuum.journal.inspection import RunDetail
from continuum.models import Page, RunInfo, RunState
from continuum.observer.effects import EffectsView, effects_for_run
from continuum.observer.timeline import TimelineRow, rows
from continuum.validation import text_problem

MAX_PAGE = 200
TIMELINE_PAGE = 200
_STATES = tuple(s.value for s in RunState)


class BadRequest(ValueError):
    """A query parameter the Observer cannot use (HTTP 400, nothing read or written)."""


@dataclass
class Filters:
    """The runs index's filters, from query parameters."""

    namespace: str | None = None
    state: str | None = None
    workflow: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    after: str | None = None
    limit: int = 50

    def where(self) -> list[tuple[str, Any, Any]]:
        """The conditions of :meth:`Client.query` for these filters."""
        out: list[tuple[str, Any, Any]] = []
        if self.state:
            out.append(("eq", "state", self.state))
        if self.workflow:
            out.append(("eq", "workflow", self.workflow))
        for key, value in self.attributes.items():
            out.append(("eq", ("attributes", key), value))
        return out

    def params(self, *, after: str | None = None) -> list[tuple[str, str]]:
        """These filters as query parameters (for links), with another cursor."""
        out: list[tuple[str, str]] = []
        for name in ("namespace", "state", "workflow"):
            value = getattr(self, name)
            if value:
                out.append((name, value))
        for key, value in self.attributes.items():
            out.append((f"attr.{key}", value if isinstance(value, str) else json.dumps(value)))
        if after:
            out.append(("after", after))
        return out


def _attr_value(raw: str) -> Any:
    """``attr.KEY=VALUE``: JSON when it parses as a number, bool, null or quoted string,
    else the text itself (``attr.plan=pro`` is the string ``"pro"``)."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if not isinstance(value, dict | list) else raw


def parse_filters(params: Mapping[str, str]) -> Filters:
    """Filters from query parameters; :class:`BadRequest` for a value that cannot work."""
    filters = Filters()
    for key, value in params.items():
        value = value.strip()
        problem = text_problem(key) or text_problem(value)
        if problem:
            raise BadRequest(f"query parameter {key!r} {problem}")
        if key in ("namespace", "workflow"):
            setattr(filters, key, value or None)
        elif key == "state":
            if value and value not in _STATES:
                raise BadRequest(f"unknown state {value!r}; use one of {', '.join(_STATES)}")
            filters.state = value or None
        elif key.startswith("attr."):
            name = key[len("attr.") :]
            if not name:
                raise BadRequest("an attribute filter needs a key: attr.KEY=VALUE")
            if value:
                filters.attributes[name] = _attr_value(value)
        elif key == "after":
            filters.after = value or None
        elif key == "limit":
            try:
                filters.limit = int(value)
            except ValueError:
                raise BadRequest(f"limit must be a number, got {value!r}") from None
            if not 1 <= filters.limit <= MAX_PAGE:
                raise BadRequest(f"limit must be between 1 and {MAX_PAGE}, got {value}")
    return filters


def list_runs(client: Client, filters: Filters) -> Page:
    """One page of the runs index (every namespace unless one is asked for)."""
    return client.journal.query(
        namespace=filters.namespace,
        where=filters.where(),
        order_by=("desc", "started_at"),
        limit=filters.limit,
        after=filters.after,
    )


def int_param(params: Mapping[str, str], name: str) -> int | None:
    """An optional non-negative integer query parameter."""
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise BadRequest(f"{name} must be >= 0, got {value}")
    return value


@dataclass
class RunView:
    """Everything the run detail page shows."""

    info: RunInfo
    detail: RunDetail
    timeline: list[TimelineRow]
    has_older: bool
    has_newer: bool
    at_tail: bool
    effects: EffectsView

    @property
    def first_seq(self) -> int:
        return self.timeline[0].seq if self.timeline else 0

    @property
    def last_seq(self) -> int:
        return self.timeline[-1].seq if self.timeline else 0

    @property
    def error_message(self) -> str | None:
        err = self.info.error
        if not err:
            return None
        return f"{err.get('type', 'error')}: {err.get('message', '')}"


def run_view(
    client: Client,
    run_id: str,
    *,
    before_seq: int | None = None,
    after_seq: int | None = None,
    limit: int = TIMELINE_PAGE,
    with_effects: bool = True,
) -> RunView:
    """The run detail; the timeline is one window of at most ``limit`` events (the newest
    by default), so a run with a long history opens as fast as a short one."""
    journal = client.journal
    info = client.get_run(run_id)
    detail = journal.run_detail(info.id)
    events = journal.history_window(
        info.id, before_seq=before_seq, after_seq=after_seq, limit=limit
    )
    timeline = rows(events)
    first = timeline[0].seq if timeline else 0
    last = timeline[-1].seq if timeline else 0
    has_older = first > 1
    has_newer = bool(timeline) and last < detail.last_seq
    if not timeline and after_seq is not None:
        has_older = detail.last_seq > 0
    effects = (
        effects_for_run(
            client.versions.resolve,
            info.workflow,
            info.version_hash,
            lambda: journal.reached_sites(info.id),
        )
        if with_effects
        else EffectsView([], None, "not requested")
    )
    return RunView(
        info=info,
        detail=detail,
        timeline=timeline,
        has_older=has_older,
        has_newer=has_newer,
        at_tail=not has_newer,
        effects=effects,
    )


def detail_json(detail: RunDetail) -> dict[str, Any]:
    """The pending work and lineage of a run as JSON."""
    return {
        "input": detail.input,
        "trace_context": detail.trace_context,
        "lease_owner": detail.lease_owner,
        "lease_expires_at": _iso(detail.lease_expires_at),
        "next_wakeup_at": _iso(detail.next_wakeup_at),
        "cancel_requested_at": _iso(detail.cancel_requested_at),
        "last_seq": detail.last_seq,
        "pending_signals": [
            {"id": s.id, "name": s.name, "payload": s.payload, "inserted_at": _iso(s.inserted_at)}
            for s in detail.signals
        ],
        "pending_timers": [{"seq": t.seq, "fire_at": _iso(t.fire_at)} for t in detail.timers],
        "open_tasks": [
            {
                "id": t.id,
                "command_seq": t.command_seq,
                "kind": t.kind,
                "activity": t.activity,
                "state": t.state,
                "attempt": t.attempt,
                "max_attempts": t.max_attempts,
                "available_at": _iso(t.available_at),
                "lease_owner": t.lease_owner,
                "lease_expires_at": _iso(t.lease_expires_at),
                "last_error": t.last_error,
            }
            for t in detail.tasks
        ],
        "children": [
            {"id": c.id, "workflow": c.workflow, "state": c.state, "started_at": _iso(c.started_at)}
            for c in detail.children
        ],
        "run_events": detail.events,
        "pending_updates": [
            {
                "id": u.id,
                "name": u.name,
                "payload": u.payload,
                "inserted_at": _iso(u.inserted_at),
                "accepted": u.accepted,
            }
            for u in detail.updates
        ],
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
