"""Supervise N worker child processes: restart the ones that die, stop them all cleanly.

``continuum worker --processes N`` runs a :class:`Supervisor` in the parent process. The
parent holds no pools, threads or connections: each child is a fresh interpreter
started with ``subprocess`` (fork + exec, never a bare fork of a process with threads)
running the ordinary single-process worker. The supervisor

- restarts a child that exits while the supervisor is not stopping, after a back-off
  that doubles with each consecutive crash of that slot (``backoff_initial_s`` up to
  ``backoff_max_s``; reset once a child has lived ``stable_after_s``);
- gives up — stops the other children and raises :class:`WorkerCrashLoop` — when
  children crashed ``max_crashes`` times within ``crash_window_s``, or at once when a
  child exits with :data:`EXIT_FATAL` (an error a restart cannot fix: a malformed DSN,
  a refused login, a missing schema, a module that does not import);
- forwards SIGTERM/SIGINT to every child and waits up to ``shutdown_timeout_s`` while
  each drains like a single worker; a child still alive then is SIGKILLed (its leases
  expire and other workers take its work over) and the shutdown is not clean.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from continuum.errors import ContinuumError

EXIT_FATAL = 78  # sysexits.h EX_CONFIG: a child says "restarting me will not help"

_FORWARDED = (signal.SIGTERM, signal.SIGINT)


class WorkerCrashLoop(ContinuumError):
    """The supervisor stopped restarting worker children (crash loop or fatal error)."""

    code = "worker_crash_loop"


@dataclass(frozen=True)
class SupervisorPolicy:
    """How many children, how to restart them, and how long a shutdown may take."""

    processes: int
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    stable_after_s: float = 60.0
    max_crashes: int = 5
    crash_window_s: float = 60.0
    shutdown_timeout_s: float = 20.0
    poll_s: float = 0.1

    def __post_init__(self) -> None:
        if self.processes < 1:
            raise ValueError(f"processes must be >= 1, got {self.processes}")
        if self.max_crashes < 1:
            raise ValueError(f"max_crashes must be >= 1, got {self.max_crashes}")

    def backoff(self, consecutive: int) -> float:
        """Seconds to wait before restarting a slot after its ``consecutive``-th crash."""
        return float(min(self.backoff_initial_s * 2 ** max(consecutive - 1, 0), self.backoff_max_s))


@dataclass
class _Slot:
    index: int
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    consecutive: int = 0
    restart_at: float | None = None
    restarts: int = 0


@dataclass
class _Shutdown:
    signum: int | None = None
    requested: threading.Event = field(default_factory=threading.Event)


def describe_exit(returncode: int) -> str:
    """``"exited with code 3"`` or ``"was killed by SIGKILL"``."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"was killed by {name}"
    return f"exited with code {returncode}"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class Supervisor:
    """Run ``policy.processes`` copies of ``command`` until SIGTERM/SIGINT (see module)."""

    def __init__(
        self,
        command: Sequence[str],
        policy: SupervisorPolicy,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        say: Callable[[str], None] = _stderr,
        name: str = "continuum worker",
    ) -> None:
        if not command:
            raise ValueError("command must not be empty")
        self.command = list(command)
        self.policy = policy
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.name = name
        self._say = say
        self._slots = [_Slot(i + 1) for i in range(policy.processes)]
        self._crashes: deque[float] = deque()
        self._shutdown = _Shutdown()

    # -- public -----------------------------------------------------------------------
    @property
    def pids(self) -> list[int]:
        """The process ids of the children alive now, by slot."""
        return [s.proc.pid for s in self._slots if s.proc is not None and s.proc.poll() is None]

    @property
    def restarts(self) -> int:
        """How many times a child has been restarted so far."""
        return sum(s.restarts for s in self._slots)

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Begin a clean shutdown, forwarding ``signum`` (safe from signal handlers)."""
        if self._shutdown.signum is None:
            self._shutdown.signum = signum
        self._shutdown.requested.set()

    def run(self) -> int:
        """Start the children and supervise them; 0 after a clean shutdown, else 1.

        Installs SIGTERM/SIGINT handlers when called on the main thread. Raises
        :class:`WorkerCrashLoop` (after stopping every child) when it gives up.
        """
        previous = self._install_handlers()
        try:
            try:
                for slot in self._slots:
                    self._spawn(slot)
                self.say(
                    f"supervising {len(self._slots)} worker processes "
                    f"(pids {', '.join(map(str, self.pids))}); SIGTERM or Ctrl-C stops them"
                )
                while not self._shutdown.requested.wait(self.policy.poll_s):
                    self._tend()
            except WorkerCrashLoop:
                self._stop_children(signal.SIGTERM)
                raise
            return self._stop_children(self._shutdown.signum or signal.SIGTERM)
        finally:
            self._restore_handlers(previous)

    def say(self, text: str) -> None:
        """Print one supervisor line (to stderr unless ``say=`` was given)."""
        self._say(f"supervisor {os.getpid()}: {text}")

    # -- children ---------------------------------------------------------------------
    def _spawn(self, slot: _Slot) -> None:
        env = {**self.env, "CONTINUUM_WORKER_SLOT": str(slot.index)}
        try:
            slot.proc = subprocess.Popen(self.command, env=env, cwd=self.cwd)
        except OSError as exc:
            raise WorkerCrashLoop(
                f"{self.name}: cannot start worker process {slot.index} "
                f"({self.command[0]}): {exc}; check the Python installation"
            ) from None
        slot.started_at = time.monotonic()
        slot.restart_at = None

    def _tend(self) -> None:
        now = time.monotonic()
        for slot in self._slots:
            if slot.proc is not None:
                code = slot.proc.poll()
                if code is not None:
                    self._died(slot, code, now)
            elif slot.restart_at is not None and now >= slot.restart_at:
                if self._shutdown.requested.is_set():
                    return
                slot.restarts += 1
                self._spawn(slot)
                assert slot.proc is not None
                self.say(f"worker process {slot.index} restarted (pid {slot.proc.pid})")

    def _died(self, slot: _Slot, code: int, now: float) -> None:
        assert slot.proc is not None
        pid, lived = slot.proc.pid, now - slot.started_at
        slot.proc = None
        what = f"worker process {slot.index} (pid {pid}) {describe_exit(code)} after {lived:.1f}s"
        if code == EXIT_FATAL:
            raise WorkerCrashLoop(
                f"{self.name}: {what} with an error a restart cannot fix (printed above); "
                "stopping every worker process; fix the configuration and start again"
            )
        self._crashes.append(now)
        while self._crashes and now - self._crashes[0] > self.policy.crash_window_s:
            self._crashes.popleft()
        if len(self._crashes) >= self.policy.max_crashes:
            raise WorkerCrashLoop(
                f"{self.name}: {what}; worker processes crashed {len(self._crashes)} times "
                f"within {self.policy.crash_window_s:g}s, so the supervisor gives up and stops "
                "the others; read the children's errors above, fix the cause and start again"
            )
        slot.consecutive = 1 if lived >= self.policy.stable_after_s else slot.consecutive + 1
        delay = self.policy.backoff(slot.consecutive)
        slot.restart_at = now + delay
        self.say(f"{what}; restarting it in {delay:g}s")

    def _stop_children(self, signum: int) -> int:
        live = [s for s in self._slots if s.proc is not None and s.proc.poll() is None]
        name = signal.Signals(signum).name
        self.say(
            f"stopping: {name} sent to {len(live)} worker process(es); "
            f"waiting up to {self.policy.shutdown_timeout_s:g}s for them to drain"
        )
        for slot in live:
            assert slot.proc is not None
            with contextlib.suppress(ProcessLookupError):
                slot.proc.send_signal(signum)
        deadline = time.monotonic() + self.policy.shutdown_timeout_s
        clean = True
        for slot in self._slots:
            if slot.proc is None:
                continue
            try:
                code = slot.proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                slot.proc.kill()
                code = slot.proc.wait()
                self.say(
                    f"worker process {slot.index} (pid {slot.proc.pid}) did not stop within "
                    f"{self.policy.shutdown_timeout_s:g}s and was killed; its leases expire "
                    "and other workers take its work over"
                )
                clean = False
                continue
            if code not in (0, -signum):  # -signum: stopped before its handler was set
                clean = False
                self.say(f"worker process {slot.index} (pid {slot.proc.pid}) {describe_exit(code)}")
            slot.proc = None
        self.say("every worker process stopped" + ("" if clean else " (not cleanly)"))
        return 0 if clean else 1

    # -- signals ----------------------------------------------------------------------
    def _install_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}

        def handler(signum: int, frame: FrameType | None) -> None:
            self.request_stop(signum)

        return {sig: signal.signal(sig, handler) for sig in _FORWARDED}

    @staticmethod
    def _restore_handlers(previous: dict[int, Any]) -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)


__all__ = ["EXIT_FATAL", "Supervisor", "SupervisorPolicy", "WorkerCrashLoop", "describe_exit"]
