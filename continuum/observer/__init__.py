"""The Observer: a web UI (ASGI) over a Continuum database.

``continuum.observer.app(client)`` returns a Starlette app that a host mounts behind its
own authentication (see ``guides/observer.md``). Routes (SPEC §9): ``GET /`` runs index,
``GET /runs/{id}`` run detail, ``GET /api/runs`` and ``GET /api/runs/{id}`` (JSON), and
the ``POST``-only actions ``/runs/{id}/cancel`` and ``/runs/{id}/signal`` (CSRF token and
origin check).
"""

from continuum.observer.application import app

__all__ = ["app"]
