"""The durable mailbox: signals land on the live tip of a ``continue_as_new`` chain."""

from __future__ import annotations

from continuum.errors import RunNotFound, RunTerminal
from continuum.journal.postgres.locks import follow_chain_locked
from continuum.journal.postgres.statements import Cursor, fetch_one, sql
from continuum.models import TERMINAL_STATES


def send_signal(cur: Cursor, run_id: str, name: str, payload_json: str) -> str:
    """Insert the signal into the tip's mailbox and wake it; returns the tip's id.

    ``payload_json`` is already-validated JSON text. Raises :class:`RunNotFound` or
    :class:`RunTerminal` (and then writes nothing).
    """
    tip = follow_chain_locked(cur, run_id)
    if tip is None:
        raise RunNotFound(run_id)
    if tip["state"] in TERMINAL_STATES:
        raise RunTerminal(tip["id"], tip["state"])
    fetch_one(cur, sql("signals", "insert_signal"), (tip["id"], name, payload_json))
    fetch_one(cur, sql("signals", "wake_locked_run"), (tip["id"],))
    tip_id: str = tip["id"]
    return tip_id
