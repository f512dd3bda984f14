"""Replaying recorded histories offline: golden files and paranoid re-replay.

The replayer itself is part of the engine (:mod:`continuum.engine.replay`), where the
operator tools (``continuum replay --against-current``) use it too; this is its public
home in the testing kit.
"""

from __future__ import annotations

from continuum.engine.replay import ReplayOutcome, load_history, replay, verify_run

__all__ = ["ReplayOutcome", "load_history", "replay", "verify_run"]
