"""``POST`` actions: cancel a run, send it a signal or an update, fork it. Each passes the
CSRF guard first; a rejected request changes nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from continuum.errors import (
    ConfigurationError,
    ForkError,
    PayloadError,
    RunAlreadyExists,
    RunNotFound,
    RunTerminal,
    UpdateRejected,
)
from continuum.observer.security import FORM_FIELD, HEADER, Rejected
from continuum.observer.state import Observer, base_path, wants_json

_MAX_FORM_BYTES = 1_000_000


async def _guarded_form(request: Request, obs: Observer) -> FormData:
    """The action's form, after the origin and token checks (``Rejected`` otherwise)."""
    obs.guard.check_origin(request)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > _MAX_FORM_BYTES:
        raise Rejected("request body too large")
    form = await request.form()
    token = form.get(FORM_FIELD)
    submitted = token if isinstance(token, str) else request.headers.get(HEADER)
    obs.guard.check_token(request, submitted)
    return form


def _done(request: Request, run_id: str, what: str, extra: dict[str, Any]) -> Response:
    if wants_json(request):
        return JSONResponse({"ok": True, "run_id": run_id, **extra})
    url = f"{base_path(request)}/runs/{quote(run_id, safe='')}?done={what}"
    return RedirectResponse(url, status_code=303)


def _failed(request: Request, obs: Observer, status: int, heading: str, text: str) -> Response:
    if wants_json(request):
        return JSONResponse({"error": text}, status_code=status)
    run_id = request.path_params.get("run_id", "")
    back = f"{base_path(request)}/runs/{quote(run_id, safe='')}" if run_id else None
    return obs.message(request, status, heading, text, back)


def _name_and_payload(form: FormData, kind: str) -> tuple[str, Any] | str:
    """The ``name`` and JSON ``payload`` form fields of a signal or update, or why not."""
    name = form.get("name")
    if not isinstance(name, str) or not name.strip():
        return f"the {kind} needs a name (form field name)"
    raw = form.get("payload")
    text = raw.strip() if isinstance(raw, str) else ""
    try:
        return name.strip(), json.loads(text) if text else None
    except ValueError as exc:
        return f"the payload is not JSON ({exc}); nothing was sent"


async def cancel(request: Request) -> Response:
    """``POST /runs/{id}/cancel``: cancel the run (its chain's tip) and its children."""
    obs: Observer = request.app.state.observer
    run_id = request.path_params["run_id"]
    try:
        await _guarded_form(request, obs)
    except Rejected as exc:
        return _failed(request, obs, 403, "Forbidden", str(exc))
    try:
        info = await obs.call(obs.client.cancel, run_id)
    except RunNotFound:
        return _failed(request, obs, 404, "Run not found", f"There is no run {run_id!r}.")
    except RunTerminal as exc:
        return _failed(request, obs, 409, "Run already finished", str(exc))
    except PayloadError as exc:
        return _failed(request, obs, 400, "Bad request", str(exc))
    return _done(request, run_id, "cancelled", {"state": info.state.value})


async def signal(request: Request) -> Response:
    """``POST /runs/{id}/signal``: form fields ``name`` and ``payload`` (JSON text)."""
    obs: Observer = request.app.state.observer
    run_id = request.path_params["run_id"]
    try:
        form = await _guarded_form(request, obs)
    except Rejected as exc:
        return _failed(request, obs, 403, "Forbidden", str(exc))
    parsed = _name_and_payload(form, "signal")
    if isinstance(parsed, str):
        return _failed(request, obs, 400, "Bad signal", parsed)
    name, payload = parsed
    try:
        await obs.call(obs.client.signal, run_id, name, payload)
    except RunNotFound:
        return _failed(request, obs, 404, "Run not found", f"There is no run {run_id!r}.")
    except RunTerminal as exc:
        return _failed(request, obs, 409, "Run already finished", str(exc))
    except PayloadError as exc:
        return _failed(request, obs, 400, "Bad signal", str(exc))
    return _done(request, run_id, "signalled", {"signal": name})


UPDATE_WAIT_S = 10.0
"""How long the ``update`` action waits for the workflow's answer."""


async def update(request: Request) -> Response:
    """``POST /runs/{id}/update``: form fields ``name`` and ``payload`` (JSON text); waits
    up to :data:`UPDATE_WAIT_S` for the workflow's reply and shows it."""
    obs: Observer = request.app.state.observer
    run_id = request.path_params["run_id"]
    try:
        form = await _guarded_form(request, obs)
    except Rejected as exc:
        return _failed(request, obs, 403, "Forbidden", str(exc))
    parsed = _name_and_payload(form, "update")
    if isinstance(parsed, str):
        return _failed(request, obs, 400, "Bad update", parsed)
    name, payload = parsed
    try:
        reply = await obs.call(obs.client.update, run_id, name, payload, UPDATE_WAIT_S)
    except RunNotFound:
        return _failed(request, obs, 404, "Run not found", f"There is no run {run_id!r}.")
    except RunTerminal as exc:
        return _failed(request, obs, 409, "Run already finished", str(exc))
    except UpdateRejected as exc:
        return _failed(request, obs, 422, "Update rejected", exc.reason)
    except TimeoutError as exc:
        return _failed(request, obs, 504, "No answer", str(exc))
    except PayloadError as exc:
        return _failed(request, obs, 400, "Bad update", str(exc))
    if wants_json(request):
        return JSONResponse({"ok": True, "run_id": run_id, "update": name, "reply": reply})
    back = f"{base_path(request)}/runs/{quote(run_id, safe='')}"
    return obs.message(request, 200, "Update answered", json.dumps(reply), back)


async def fork(request: Request) -> Response:
    """``POST /runs/{id}/fork``: optional form field ``at_seq`` (events up to it are copied;
    empty: all but a terminal event); answers with the new run's page."""
    obs: Observer = request.app.state.observer
    run_id = request.path_params["run_id"]
    try:
        form = await _guarded_form(request, obs)
    except Rejected as exc:
        return _failed(request, obs, 403, "Forbidden", str(exc))
    raw = form.get("at_seq")
    text = raw.strip() if isinstance(raw, str) else ""
    if text and not text.isdigit():
        return _failed(
            request, obs, 400, "Bad fork", f"at_seq must be a positive number, got {text!r:.40}"
        )
    at_seq = int(text) if text else None
    try:
        new_id = await obs.call(obs.client.fork, run_id, at_seq)
    except RunNotFound:
        return _failed(request, obs, 404, "Run not found", f"There is no run {run_id!r}.")
    except (ForkError, RunAlreadyExists, ConfigurationError, PayloadError) as exc:
        return _failed(request, obs, 400, "Cannot fork", str(exc))
    return _done(request, new_id, "forked", {"forked_from": run_id, "at_seq": at_seq})
