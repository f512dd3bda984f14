"""Helpers for the chaos tests: worker subprocesses on a test database, polling waits."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]

_WORKER_MAIN = (
    "import sys; from continuum.cli.worker_commands import worker_command; "
    "worker_command(sys.argv[1:])"
)


class Workers:
    """Starts ``continuum worker`` subprocesses and kills whatever is left at teardown."""

    def __init__(self, tmp_path: Path, dsn: str) -> None:
        self.tmp_path = tmp_path
        self.dsn = dsn
        self.procs: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def write_module(self, source: str) -> str:
        """Write ``source`` as a fresh module in ``tmp_path``; returns its name."""
        name = f"chaos_{uuid.uuid4().hex[:8]}"
        (self.tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    def spawn(
        self, module: str, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Start a worker process for ``module``."""
        full_env = {**os.environ, "PYTHONPATH": f"{self.tmp_path}{os.pathsep}{REPO}"}
        full_env.update(env or {})
        log = open(self.tmp_path / f"worker-{len(self.procs)}.log", "wb")  # noqa: SIM115
        self._files.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER_MAIN, module, "--dsn", self.dsn, *args],
            cwd=self.tmp_path,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> float:
        """SIGKILL ``proc``; returns the monotonic time of the kill."""
        proc.send_signal(signal.SIGKILL)
        at = time.monotonic()
        proc.wait(10)
        return at

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        for f in self._files:
            f.close()

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace") for p in sorted(self.tmp_path.glob("worker-*.log"))
        )


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` every 20 ms until it holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what or predicate}")
