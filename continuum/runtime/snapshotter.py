"""The snapshotter: every ~N new events, store the run's compacted replay state.

After an activation that leaves its run suspended has committed, the snapshotter checks
how many events the run journaled since the snapshot its activation started from. Once
that reaches the threshold — the workflow's ``snapshot_threshold`` (which wins), else the
worker's, else never — it stores :func:`continuum.engine.snapshot.compact` of the
history it already holds in memory (the loaded events plus the ones just committed), so
taking a snapshot reads nothing. Storing one is best effort: a failure is logged and the
run goes on (it only means the next resume reads more events).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from continuum import telemetry
from continuum.definitions.workflow import Workflow
from continuum.engine import snapshot
from continuum.engine.types import ActivationInput, ActivationResult

Saver = Callable[[str, int, int, str], bool]
"""``(run_id, seq, format_version, payload JSON) -> stored``."""

_log = logging.getLogger("continuum.runtime")


class Snapshotter:
    """Decides when to snapshot a run and stores the snapshot."""

    def __init__(
        self,
        save: Saver,
        *,
        default_threshold: int | None = None,
        live: Callable[[str], Workflow[Any, Any] | None] = lambda _name: None,
        instance: str = "default",
    ) -> None:
        self.save = save
        self.default_threshold = default_threshold
        self.live = live
        self.instance = instance

    def threshold(self, flow: Workflow[Any, Any]) -> int | None:
        """The workflow's threshold (a frozen version reads its live definition's), else
        the worker default; ``None`` turns snapshots off."""
        if flow.snapshot_threshold is not None:
            return flow.snapshot_threshold
        live = self.live(flow.name)
        if live is not None and live.snapshot_threshold is not None:
            return live.snapshot_threshold
        return self.default_threshold

    def after_commit(
        self, flow: Workflow[Any, Any], inp: ActivationInput, result: ActivationResult
    ) -> bool:
        """Snapshot the run if it is due; ``True`` when a snapshot was stored."""
        if result.outcome.kind != "suspended":
            return False
        every = self.threshold(flow)
        if every is None:
            return False
        through = result.new_events[-1].seq if result.new_events else inp.last_seq
        if through - inp.snapshot_seq < every:
            return False
        events = snapshot.compact([*inp.events, *result.new_events])
        doc = snapshot.encode(events, through)
        text = json.dumps(doc, separators=(",", ":"))
        try:
            stored = self.save(inp.run_id, through, snapshot.FORMAT_VERSION, text)
        except Exception as exc:  # best effort: the next resume just reads more events
            _log.warning("run %s: snapshot at seq %d not stored (%s)", inp.run_id, through, exc)
            return False
        if stored:
            telemetry.emit(
                "snapshot.taken",
                {
                    "run_id": inp.run_id,
                    "workflow": flow.name,
                    "seq": through,
                    "events": len(events),
                    "bytes": len(text),
                    "format_version": snapshot.FORMAT_VERSION,
                },
                instance=self.instance,
            )
        return stored
