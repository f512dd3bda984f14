"""HTML pages: the runs index, the run detail, and its live-update feed."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from continuum.errors import ConfigurationError, PayloadError, RunNotFound
from continuum.models import Page, RunState
from continuum.observer import data
from continuum.observer.state import Observer, base_path

_LIVE_LIMIT = 500


def _index_params(request: Request) -> dict[str, str]:
    params = dict(request.query_params)
    key = params.pop("attr_key", "").strip()
    value = params.pop("attr_value", "")
    if key:
        params[f"attr.{key}"] = value
    return params


async def index(request: Request) -> Response:
    """``GET /``: runs with filters (namespace, state, workflow, attr.KEY) and paging."""
    obs: Observer = request.app.state.observer
    error = None
    filters = data.Filters()
    page = Page(runs=[])
    status = 200
    try:
        filters = data.parse_filters(_index_params(request))
        page = await obs.call(data.list_runs, obs.client, filters)
    except (data.BadRequest, ConfigurationError) as exc:
        error, status = str(exc), 400
    attrs = list(filters.attributes.items())
    first_key, first_value = (attrs[0][0], attrs[0][1]) if attrs else ("", "")
    return obs.render(
        request,
        "index.html",
        {
            "filters": filters,
            "page": page,
            "error": error,
            "states": [s.value for s in RunState],
            "attr_key": first_key,
            "attr_value": first_value if isinstance(first_value, str) else str(first_value),
            "extra_attrs": attrs[1:],
            "next_params": filters.params(after=page.next_cursor),
        },
        status_code=status,
    )


async def run_page(request: Request) -> Response:
    """``GET /runs/{id}``: one run, its pending work, effects and a timeline window."""
    obs: Observer = request.app.state.observer
    run_id = request.path_params["run_id"]
    try:
        before = data.int_param(request.query_params, "before_seq")
        after = data.int_param(request.query_params, "after_seq")
        view = await obs.call(data.run_view, obs.client, run_id, before_seq=before, after_seq=after)
    except RunNotFound:
        return obs.message(request, 404, "Run not found", f"There is no run {run_id!r}.")
    except (data.BadRequest, PayloadError) as exc:
        return obs.message(request, 400, "Bad request", str(exc))
    notice = {"cancelled": "Cancel requested.", "signalled": "Signal sent."}.get(
        request.query_params.get("done", "")
    )
    return obs.render(
        request,
        "run.html",
        {"view": view, "message": notice, "view_error": view.error_message},
    )


async def live(request: Request) -> Response:
    """``GET /runs/{id}/live?after_seq=N``: what changed since event N, as JSON with
    server-rendered fragments (polled by the page's script)."""
    obs: Observer = request.app.state.observer
    run_id = request.path_params["run_id"]
    try:
        after = data.int_param(request.query_params, "after_seq") or 0
        view = await obs.call(
            data.run_view,
            obs.client,
            run_id,
            after_seq=after,
            limit=_LIVE_LIMIT,
            with_effects=False,
        )
    except RunNotFound:
        return JSONResponse({"error": f"no run {run_id!r}"}, status_code=404)
    except (data.BadRequest, PayloadError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    info = view.info
    ctx = {"base": base_path(request), "info": info, "view_error": view.error_message}
    return JSONResponse(
        {
            "state": info.state.value,
            "terminal": info.state.terminal,
            "finished": info.finished_at.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
            if info.finished_at
            else None,
            "lease_owner": view.detail.lease_owner,
            "total_events": view.detail.last_seq,
            "last_seq": view.last_seq if view.timeline else after,
            "rows_html": obs.fragment("_timeline_rows.html", {"rows": view.timeline}),
            "pending_html": obs.fragment("_pending.html", {"detail": view.detail}),
            "outcome_html": obs.fragment("_outcome.html", ctx),
            "rows": [r.to_json() for r in view.timeline],
        }
    )
