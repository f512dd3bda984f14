"""Browser tests: Debian's Chromium (``apt-get install chromium``), driven by Playwright
through ``executable_path`` — no browser download.

A missing Chromium fails these tests (it never skips them): CI installs it. Point
``$CONTINUUM_CHROMIUM`` at another binary if yours lives elsewhere. Screenshots go to
``$CONTINUUM_BROWSER_ARTIFACTS`` when set (CI keeps them), else to the test's tmp dir.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
if str(REPO) not in sys.path:  # tests/browser has no __init__: make `tests` importable
    sys.path.insert(0, str(REPO))

from continuum.client import Client  # noqa: E402
from continuum.runtime.worker import Worker  # noqa: E402
from tests.integration.conftest import pg_dsn, pg_server_dsn, pg_template  # noqa: E402
from tests.observer_flows import ACTIVITIES, FLOWS  # noqa: E402

__all__ = ["pg_dsn", "pg_server_dsn", "pg_template"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.postgres)
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CONTINUUM_CHROMIUM", "/usr/bin/chromium")
    if not os.access(path, os.X_OK):
        pytest.fail(
            f"Chromium not found at {path}: install Debian's package (apt-get install -y "
            "chromium) or set CONTINUUM_CHROMIUM; the browser tests never skip"
        )
    return path


@pytest.fixture
def artifacts(tmp_path: Path) -> Path:
    target = os.environ.get("CONTINUUM_BROWSER_ARTIFACTS")
    folder = Path(target) if target else tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"browser-{uuid.uuid4().hex[:8]}") as c:
        yield c


@pytest.fixture
def worker(client: Client) -> Iterator[Worker]:
    w = Worker(client, workflows=FLOWS, activities=ACTIVITIES, poll_interval=0.2)
    with w:
        yield w


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def observer_url(client: Client) -> Iterator[str]:
    """The Observer served by uvicorn on a loopback port, in a background thread."""
    import uvicorn

    import continuum.observer

    port = _free_port()
    config = uvicorn.Config(
        continuum.observer.app(client, poll_interval=0.3),
        host="127.0.0.1",
        port=port,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="observer-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("the Observer did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
