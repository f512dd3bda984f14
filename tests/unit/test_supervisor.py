"""The worker supervisor with real child processes (small Python scripts, no database):
restart with back-off, crash-loop give-up, fatal exits, signal forwarding and a
bounded shutdown."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from continuum.runtime.supervisor import (
    EXIT_FATAL,
    Supervisor,
    SupervisorPolicy,
    WorkerCrashLoop,
    describe_exit,
)

# A child that runs until SIGTERM/SIGINT, then exits 0 (as a draining worker does). It
# appends "start <slot> <pid>" and "stop <slot> <pid> <signal>" lines to a log file.
POLITE = """
import os, signal, sys, time
log = open(sys.argv[1], "a", buffering=1)
slot = os.environ["CONTINUUM_WORKER_SLOT"]
stop = []
def handler(signum, frame):
    stop.append(signum)
signal.signal(signal.SIGTERM, handler)
signal.signal(signal.SIGINT, handler)
log.write(f"start {slot} {os.getpid()}\\n")
while not stop:
    time.sleep(0.02)
time.sleep(float(sys.argv[2]) if len(sys.argv) > 2 else 0.0)
log.write(f"stop {slot} {os.getpid()} {stop[0]}\\n")
"""


def _lines(log: Path) -> list[list[str]]:
    return [line.split() for line in log.read_text().splitlines()] if log.exists() else []


def _wait_for(predicate: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(predicate) and predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "child.py"
    path.write_text(body)
    return path


def _run_in_thread(sup: Supervisor) -> tuple[threading.Thread, list[object]]:
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(sup.run())
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, outcome


def test_a_killed_child_is_restarted_and_a_stop_is_forwarded_to_every_child(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log"
    said: list[str] = []
    sup = Supervisor(
        [sys.executable, str(_script(tmp_path, POLITE)), str(log)],
        SupervisorPolicy(processes=2, backoff_initial_s=0.2),
        say=said.append,
    )
    thread, outcome = _run_in_thread(sup)
    _wait_for(lambda: len(_lines(log)) == 2)
    first = {int(f[2]) for f in _lines(log)}
    victim = min(first)
    os.kill(victim, signal.SIGKILL)
    _wait_for(lambda: len(_lines(log)) == 3)
    assert sup.restarts == 1
    live = (first - {victim}) | {int(_lines(log)[2][2])}
    assert set(sup.pids) == live
    assert any("was killed by SIGKILL" in s and "restarting it in 0.2s" in s for s in said)
    sup.request_stop(signal.SIGTERM)
    thread.join(15)
    assert outcome == [0]
    stops = [f for f in _lines(log) if f[0] == "stop"]
    assert {int(f[2]) for f in stops} == live and len(stops) == 2
    assert {f[3] for f in stops} == {str(int(signal.SIGTERM))}


def test_sigint_is_forwarded_as_sigint(tmp_path: Path) -> None:
    log = tmp_path / "log"
    sup = Supervisor(
        [sys.executable, str(_script(tmp_path, POLITE)), str(log)],
        SupervisorPolicy(processes=2),
        say=lambda _s: None,
    )
    thread, outcome = _run_in_thread(sup)
    _wait_for(lambda: len(_lines(log)) == 2)
    sup.request_stop(signal.SIGINT)
    thread.join(15)
    assert outcome == [0]
    assert [f[3] for f in _lines(log) if f[0] == "stop"] == [str(int(signal.SIGINT))] * 2


def test_children_that_keep_crashing_make_the_supervisor_give_up(tmp_path: Path) -> None:
    log = tmp_path / "log"
    crasher = _script(
        tmp_path,
        "import sys\nopen(sys.argv[1], 'a').write('start\\n')\nsys.exit(3)\n",
    )
    said: list[str] = []
    sup = Supervisor(
        [sys.executable, str(crasher), str(log)],
        SupervisorPolicy(processes=2, backoff_initial_s=0.05, max_crashes=4, crash_window_s=60),
        say=said.append,
    )
    started = time.monotonic()
    with pytest.raises(WorkerCrashLoop) as err:
        sup.run()
    assert time.monotonic() - started < 20
    assert "crashed 4 times within 60s" in str(err.value)
    assert "exited with code 3" in str(err.value)
    assert "gives up" in str(err.value)
    assert len(_lines(log)) == 4  # 2 first starts + 2 restarts, then no more
    assert sup.pids == []
    # Back-off doubles per consecutive crash of a slot.
    delays = [s.split("restarting it in ")[1] for s in said if "restarting it in" in s]
    assert delays[:2] == ["0.05s", "0.05s"] and "0.1s" in delays


def test_a_fatal_exit_stops_everything_at_once(tmp_path: Path) -> None:
    log = tmp_path / "log"
    body = POLITE.replace(
        "while not stop:",
        # Slot 2 fails for good once slot 1 is up (and able to stop politely).
        "if slot == '2':\n"
        "    while 'start 1' not in open(sys.argv[1]).read():\n"
        "        time.sleep(0.02)\n"
        f"    sys.exit({EXIT_FATAL})\n"
        "while not stop:",
    )
    sup = Supervisor(
        [sys.executable, str(_script(tmp_path, body)), str(log)],
        SupervisorPolicy(processes=2),
        say=lambda _s: None,
    )
    with pytest.raises(WorkerCrashLoop) as err:
        sup.run()
    assert "worker process 2" in str(err.value)
    assert f"exited with code {EXIT_FATAL}" in str(err.value)
    assert "a restart cannot fix" in str(err.value)
    assert sup.restarts == 0
    # The healthy child was stopped politely, not left running.
    assert [f[:2] for f in _lines(log) if f[0] == "stop"] == [["stop", "1"]]


def test_a_child_that_ignores_the_stop_is_killed_after_the_bound(tmp_path: Path) -> None:
    log = tmp_path / "log"
    said: list[str] = []
    sup = Supervisor(
        [sys.executable, str(_script(tmp_path, POLITE)), str(log), "30"],  # drains for 30 s
        SupervisorPolicy(processes=1, shutdown_timeout_s=1.0),
        say=said.append,
    )
    thread, outcome = _run_in_thread(sup)
    _wait_for(lambda: len(_lines(log)) == 1)
    stopped_at = time.monotonic()
    sup.request_stop()
    thread.join(15)
    assert time.monotonic() - stopped_at < 5
    assert outcome == [1]  # not a clean shutdown
    assert any("did not stop within 1s and was killed" in s for s in said)


def test_a_child_that_cannot_be_started_is_a_clear_error(tmp_path: Path) -> None:
    sup = Supervisor(
        [str(tmp_path / "no-such-python")], SupervisorPolicy(processes=2), say=lambda _s: None
    )
    with pytest.raises(WorkerCrashLoop, match="cannot start worker process 1"):
        sup.run()


def test_policy_and_exit_descriptions() -> None:
    policy = SupervisorPolicy(processes=1, backoff_initial_s=0.5, backoff_max_s=3)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
    assert describe_exit(2) == "exited with code 2"
    with pytest.raises(ValueError):
        SupervisorPolicy(processes=0)
    with pytest.raises(ValueError):
        Supervisor([], policy)
