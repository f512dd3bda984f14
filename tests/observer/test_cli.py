"""``continuum observer`` and ``continuum dev`` serve the Observer (real processes)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from continuum.cli.observer_commands import is_loopback
from continuum.client import Client
from tests.observer_flows import approval

REPO = Path(__file__).resolve().parents[2]
_URL = re.compile(r"(http://\S+/)")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from continuum.cli.main import main; main()", *args]


@contextmanager
def _serving(*args: str) -> Iterator[str]:
    """Run the command; yield the URL it prints on stdout; stop it afterwards."""
    with subprocess.Popen(
        _cli(*args), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            deadline = time.monotonic() + 60
            url = None
            while url is None and time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                found = _URL.search(line)
                url = found.group(1) if found else None
            if url is None:
                proc.kill()
                _, err = proc.communicate(timeout=10)
                raise AssertionError(f"no URL printed; stderr: {err}")
            yield url
        finally:
            proc.terminate()
            try:
                proc.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10", "example.com", "::"])
def test_remote_bind_needs_allow_remote(host: str) -> None:
    for command in ("observer", "dev"):
        done = subprocess.run(
            _cli(command, "--host", host), cwd=REPO, capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "--allow-remote" in lines[0], done.stderr
        assert "Traceback" not in done.stderr


def test_loopback_hosts() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "myhost", "::"))


def test_observer_command_serves_the_ui(pg_dsn: str) -> None:
    with Client(pg_dsn) as client:
        run_id = client.start(approval, "ann")
    with _serving("observer", "tests.observer_flows", "--dsn", pg_dsn, "--port", "0") as url:
        assert url.startswith("http://127.0.0.1:")
        index = httpx.get(url, timeout=10)
        assert index.status_code == 200 and run_id in index.text
        api = httpx.get(f"{url}api/runs/{run_id}", timeout=10).json()
        assert api["run"]["state"] == "running"
        page = httpx.get(f"{url}runs/{run_id}", timeout=10).text
        assert "observer_flows.py:" in page  # the imported module's effects are shown


def test_dev_serves_worker_and_observer(pg_dsn: str) -> None:
    with _serving("dev", "tests.observer_flows", "--dsn", pg_dsn, "--port", "0") as url:
        with Client(pg_dsn) as client:
            run_id = client.start(approval, "dev")
            client.signal(run_id, "decision", "ok")
            assert client.result(run_id, timeout=60) == "hello dev: ok"
        page = httpx.get(f"{url}runs/{run_id}", timeout=10)
        assert page.status_code == 200 and "state-completed" in page.text
