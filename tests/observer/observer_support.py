"""Helpers shared by the Observer's HTTP tests."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from starlette.testclient import TestClient

from continuum.client import Client

_TOKEN = re.compile(r'name="csrf-token" content="([0-9a-f]+)"')


def wait_until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``check`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.05)


def token_from(http: TestClient, path: str) -> str:
    """The CSRF token the page at ``path`` carries (and the cookie it sets)."""
    page = http.get(path)
    assert page.status_code == 200, page.text
    found = _TOKEN.search(page.text)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


def state_of(client: Client, run_id: str) -> str:
    return client.get_run(run_id).state.value


def mailbox(client: Client, run_id: str) -> list[tuple[str, object]]:
    """The run's unconsumed signals (name, payload)."""
    return [(s.name, s.payload) for s in client.journal.run_detail(run_id).signals]
