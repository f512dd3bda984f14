"""What every Observer handler shares: the client, templates, CSRF guard, settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from continuum.client.client import Client
from continuum.observer.security import CsrfGuard

T = TypeVar("T")


@dataclass(frozen=True)
class Observer:
    """One mounted Observer."""

    client: Client
    templates: Jinja2Templates
    guard: CsrfGuard
    title: str
    poll_ms: int

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking client call off the event loop."""
        return await run_in_threadpool(fn, *args, **kwargs)

    def render(
        self, request: Request, name: str, context: dict[str, Any], status_code: int = 200
    ) -> Response:
        """Render a page with the shared context and the CSRF cookie/token."""
        nonce, new = self.guard.nonce(request)
        ctx = {
            "title": self.title,
            "base": base_path(request),
            "csrf_token": self.guard.token_for(nonce),
            "poll_ms": self.poll_ms,
            **context,
        }
        response = self.templates.TemplateResponse(request, name, ctx, status_code=status_code)
        if new:
            self.guard.set_cookie(response, request, nonce)
        return response

    def fragment(self, name: str, context: dict[str, Any]) -> str:
        """Render a partial template to a string (live updates)."""
        return self.templates.get_template(name).render(context)

    def message(
        self, request: Request, status_code: int, heading: str, text: str, back: str | None = None
    ) -> Response:
        """An error or notice page."""
        return self.render(
            request,
            "message.html",
            {"heading": heading, "message": text, "back": back},
            status_code=status_code,
        )


def base_path(request: Request) -> str:
    """Where the Observer is mounted (``""`` at the root)."""
    root: str = request.scope.get("root_path", "")
    return root.rstrip("/")


def wants_json(request: Request) -> bool:
    """Whether the caller asked for JSON rather than a page."""
    return "application/json" in request.headers.get("accept", "")
