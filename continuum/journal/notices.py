"""Telemetry a journal emits for transitions no activation commits (a client's cancel)."""

from __future__ import annotations

from continuum import telemetry


def emit_cancelled(ids: list[str], *, instance: str) -> None:
    """``run.cancelled`` for the first id (the cancelled tip), ``child.cancelled`` for
    the descendants the same cancel reached."""
    if not ids:
        return
    root, descendants = ids[0], ids[1:]
    telemetry.emit("run.cancelled", {"run_id": root, "by": "client"}, instance=instance)
    for run_id in descendants:
        telemetry.emit(
            "child.cancelled", {"run_id": run_id, "root_run_id": root}, instance=instance
        )
