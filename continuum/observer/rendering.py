"""Jinja2 templates of the Observer (package data; no JavaScript build step)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.templating import Jinja2Templates

_TERMINAL = frozenset({"completed", "failed", "cancelled"})


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def _when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _run_path(run_id: str) -> str:
    return "/runs/" + quote(run_id, safe="")


def _terminal(state: str) -> bool:
    return str(state) in _TERMINAL


def templates() -> Jinja2Templates:
    """The Observer's template set, with its filters."""
    env = Environment(
        loader=PackageLoader("continuum.observer", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["pretty"] = _pretty
    env.filters["when"] = _when
    env.filters["run_path"] = _run_path
    env.filters["query"] = lambda pairs: urlencode(pairs)
    env.tests["terminal"] = _terminal
    return Jinja2Templates(env=env)
