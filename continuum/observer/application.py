"""``continuum.observer.app(client)``: the Observer as an ASGI application.

Mount it behind the host's own authentication::

    from starlette.applications import Starlette
    from starlette.routing import Mount
    host = Starlette(routes=[Mount("/continuum", app=continuum.observer.app(client))])
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.applications import Starlette
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from continuum.client.client import Client
from continuum.errors import ConfigurationError
from continuum.observer import api, dispatch, pages
from continuum.observer.rendering import templates
from continuum.observer.security import CsrfGuard
from continuum.observer.state import Observer

_ANY = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]


def app(
    client: Client,
    *,
    secret: str | bytes | None = None,
    allowed_origins: Iterable[str] = (),
    poll_interval: float = 1.0,
    title: str = "Continuum",
) -> Starlette:
    """The Observer for ``client``'s database, as a Starlette (ASGI) app.

    ``secret`` signs the CSRF tokens (default: random per app, so give every process of
    a multi-process server the same one). ``allowed_origins`` lists other origins whose
    pages may post actions (e.g. the public origin when a proxy rewrites ``Host``).
    ``poll_interval`` is how often (seconds) an open run page asks for changes.
    """
    if not isinstance(client, Client):
        raise ConfigurationError(
            f"continuum.observer.app expects a continuum.Client, got {type(client).__name__}"
        )
    if not 0.1 <= poll_interval <= 60:
        raise ConfigurationError(f"poll_interval must be 0.1-60 seconds, got {poll_interval}")
    observer = Observer(
        client=client,
        templates=templates(),
        guard=CsrfGuard.create(secret, allowed_origins),
        title=title,
        poll_ms=int(poll_interval * 1000),
    )
    routes = [
        Route("/", pages.index, methods=["GET"], name="index"),
        Route("/runs/{rest:path}", dispatch.runs, methods=_ANY, name="runs"),
        Route("/api/runs", api.runs, methods=["GET"], name="api_runs"),
        Route("/api/runs/{rest:path}", dispatch.api_run, methods=_ANY, name="api_run"),
        Mount("/static", StaticFiles(packages=[("continuum.observer", "static")]), name="static"),
    ]
    application = Starlette(routes=routes)
    application.state.observer = observer
    return application
