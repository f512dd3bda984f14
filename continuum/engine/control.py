"""Engine control flow. These derive from ``BaseException`` so that a workflow's
``except Exception`` cannot swallow them; only a bare ``except:`` or
``except BaseException`` can, and the engine detects that (``SuspendLeakError``).
"""

from __future__ import annotations

from typing import Any


class Suspend(BaseException):
    """The workflow is blocked on something that has not happened yet."""

    def __init__(self, waiting_on: str) -> None:
        super().__init__(waiting_on)
        self.waiting_on = waiting_on


class ContinueAsNew(BaseException):
    """The workflow ended itself so a successor run starts with empty history."""

    def __init__(self, input: Any, seq: int) -> None:
        super().__init__("continue_as_new")
        self.input = input
        self.seq = seq
