"""Workflows that ``continuum worker`` subprocesses load in test_worker_processes.py."""

from __future__ import annotations

import time

import continuum


@continuum.activity(name="procs.slow_double", max_attempts=5)
def slow_double(x: int) -> int:
    """Slow enough that a SIGKILLed worker is likely holding some (retried elsewhere)."""
    time.sleep(0.1)
    return x * 2


@continuum.workflow(name="procs.chain")
def chain(x: int) -> int:
    """Three activities in sequence: x * 8."""
    a = continuum.execute(slow_double, x)
    b = continuum.execute(slow_double, a)
    return continuum.execute(slow_double, b)
