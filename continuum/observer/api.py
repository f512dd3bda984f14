"""JSON twins of the pages, for scripts: ``GET /api/runs`` and ``GET /api/runs/{id}``."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from continuum.errors import ConfigurationError, PayloadError, RunNotFound
from continuum.observer import data
from continuum.observer.state import Observer


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


async def runs(request: Request) -> Response:
    """The runs index as ``{"runs": [RunInfo...], "next_cursor": ...}`` (``Client.query``)."""
    obs: Observer = request.app.state.observer
    try:
        filters = data.parse_filters(request.query_params)
        page = await obs.call(data.list_runs, obs.client, filters)
    except (data.BadRequest, ConfigurationError) as exc:
        return _error(400, str(exc))
    return JSONResponse(page.model_dump(mode="json"))


def _run_json(client: Any, run_id: str, after: int | None, limit: int | None) -> dict[str, Any]:
    info = client.get_run(run_id)
    journal = client.journal
    detail = journal.run_detail(info.id)
    if after is None and limit is None:
        events = [ev.to_json() for ev in journal.history(info.id)]
    else:
        window = journal.history_window(
            info.id, after_seq=after if after is not None else 0, limit=limit or 1000
        )
        events = [ev.to_json() for ev in window]
    return {"run": info.model_dump(mode="json"), **data.detail_json(detail), "events": events}


async def run(request: Request) -> Response:
    """One run: ``get_run`` + pending work + ``history`` (``?after_seq=&limit=`` pages it)."""
    obs: Observer = request.app.state.observer
    run_id = request.path_params["run_id"]
    try:
        after = data.int_param(request.query_params, "after_seq")
        limit = data.int_param(request.query_params, "limit")
        if limit is not None and not 1 <= limit <= 10_000:
            raise data.BadRequest(f"limit must be between 1 and 10000, got {limit}")
        body = await obs.call(_run_json, obs.client, run_id, after, limit)
    except RunNotFound:
        return _error(404, f"no run {run_id!r}")
    except (data.BadRequest, PayloadError) as exc:
        return _error(400, str(exc))
    return JSONResponse(body)
