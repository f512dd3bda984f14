"""CSRF protection for the Observer's actions: a signed double-submit token plus an
origin check.

The host mounts the Observer behind its own authentication, so the browser sends the
host's credentials (cookies) with every request, including ones a foreign page makes it
send. An action is therefore accepted only when all of these hold:

- ``Sec-Fetch-Site`` (when the browser sends it) is ``same-origin`` or ``none``;
- ``Origin`` (else ``Referer``), when present, is this site's own origin or one the host
  allowed;
- the request carries the CSRF token (form field ``csrf_token`` or header
  ``X-CSRF-Token``) that matches the HMAC of the nonce in the Observer's cookie.

A foreign page can neither read the cookie nor the token in our pages (same-origin
policy), so it cannot produce a matching pair.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

COOKIE = "continuum_observer_csrf"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
_ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


class Rejected(Exception):
    """An action request that fails the CSRF or origin check (HTTP 403)."""


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass(frozen=True)
class CsrfGuard:
    """Issues and checks the tokens of one Observer app (one secret)."""

    secret: bytes
    allowed_origins: frozenset[str] = frozenset()

    @classmethod
    def create(cls, secret: str | bytes | None, allowed_origins: Iterable[str]) -> CsrfGuard:
        """A guard with ``secret`` (random per app when ``None``)."""
        if secret is None:
            key = secrets.token_bytes(32)
        elif isinstance(secret, str):
            key = secret.encode()
        else:
            key = secret
        if len(key) < 16:
            raise ValueError("the Observer's CSRF secret must be at least 16 bytes long")
        origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)
        return cls(key, origins)

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.secret, nonce.encode(), hashlib.sha256).hexdigest()

    def nonce(self, request: Request) -> tuple[str, bool]:
        """The request's nonce (from its cookie) and whether it is new (to be set)."""
        current = request.cookies.get(COOKIE)
        if current and 16 <= len(current) <= 128 and current.isalnum():
            return current, False
        return secrets.token_hex(16), True

    def token_for(self, nonce: str) -> str:
        """The token forms and scripts send back with an action."""
        return self._sign(nonce)

    def set_cookie(self, response: Response, request: Request, nonce: str) -> None:
        """Store ``nonce`` in an HttpOnly, SameSite=Strict cookie scoped to the mount."""
        path = request.scope.get("root_path") or "/"
        response.set_cookie(
            COOKIE,
            nonce,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path=path,
        )

    def check_origin(self, request: Request) -> None:
        """Raise :class:`Rejected` for a cross-site request."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site.lower() not in _ALLOWED_FETCH_SITES:
            raise Rejected(f"cross-site request refused (Sec-Fetch-Site: {site})")
        own = f"{request.url.scheme}://{request.url.netloc}".lower()
        claimed = request.headers.get("origin")
        source = "Origin"
        if claimed is None or claimed == "null":
            if claimed == "null":
                raise Rejected("request from an opaque origin (Origin: null) refused")
            claimed = request.headers.get("referer")
            source = "Referer"
            if claimed is None:
                return  # a non-browser client: the token alone decides
        origin = _origin_of(claimed)
        if origin is None or (origin != own and origin not in self.allowed_origins):
            raise Rejected(f"request from another site refused ({source}: {claimed})")

    def check_token(self, request: Request, submitted: str | None) -> None:
        """Raise :class:`Rejected` unless ``submitted`` matches the cookie's nonce."""
        nonce = request.cookies.get(COOKIE)
        if not nonce:
            raise Rejected("missing CSRF cookie; reload the page and try again")
        if not submitted:
            raise Rejected("missing CSRF token (form field csrf_token or header X-CSRF-Token)")
        if not hmac.compare_digest(self._sign(nonce), submitted):
            raise Rejected("invalid CSRF token; reload the page and try again")
