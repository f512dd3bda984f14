"""Routing of ``/runs/{id}...`` and ``/api/runs/{id}``, where run ids may contain ``/``.

Child runs have ids like ``"order-42/ship"``, so the id is one *percent-encoded* path
segment (``/runs/order-42%2Fship/cancel``): the Observer reads it from the raw path
(before the server decodes ``%2F``), so ids never clash with the action suffixes. A
mutating route called with ``GET`` answers 405, and a page route called with ``POST``
answers 405 too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from continuum.observer import actions, api, pages

Handler = Callable[[Request], Awaitable[Response]]

_READ = frozenset({"GET", "HEAD"})
_PAGE_ROUTES: dict[str, Handler] = {"": pages.run_page, "live": pages.live}
_ACTIONS: dict[str, Handler] = {
    "cancel": actions.cancel,
    "signal": actions.signal,
    "update": actions.update,
    "fork": actions.fork,
}


def _segments(request: Request, marker: str) -> list[str] | None:
    """The raw path after the last ``marker`` (e.g. ``/runs/``), split on ``/``."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else request.url.path
    path = path.split("?", 1)[0]
    if marker not in path:
        return None
    tail = path.rsplit(marker, 1)[1]
    return tail.split("/")


def _not_allowed(allow: str) -> Response:
    return PlainTextResponse("Method Not Allowed", status_code=405, headers={"Allow": allow})


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404)


async def runs(request: Request) -> Response:
    """``/runs/{id}``, ``/runs/{id}/live`` (GET); ``/runs/{id}/cancel|signal`` (POST)."""
    parts = _segments(request, "/runs/")
    if not parts or not parts[0] or len(parts) > 2:
        return _not_found()
    suffix = parts[1] if len(parts) == 2 else ""
    request.scope.setdefault("path_params", {})["run_id"] = unquote(parts[0])
    if suffix in _ACTIONS:
        if request.method != "POST":
            return _not_allowed("POST")
        return await _ACTIONS[suffix](request)
    page = _PAGE_ROUTES.get(suffix)
    if page is None:
        return _not_found()
    if request.method not in _READ:
        return _not_allowed("GET, HEAD")
    return await page(request)


async def api_run(request: Request) -> Response:
    """``GET /api/runs/{id}``."""
    parts = _segments(request, "/api/runs/")
    if not parts or len(parts) != 1 or not parts[0]:
        return _not_found()
    if request.method not in _READ:
        return _not_allowed("GET, HEAD")
    request.scope.setdefault("path_params", {})["run_id"] = unquote(parts[0])
    return await api.run(request)
