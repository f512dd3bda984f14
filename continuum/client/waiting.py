"""Waiting for a run to finish: LISTEN ``continuum_run_finished`` with a poll fallback."""

from __future__ import annotations

import logging
import time

import psycopg

from continuum.db.retrying import retry_transient
from continuum.errors import ResultTimeout
from continuum.journal.protocol import Journal
from continuum.models import RunInfo

_log = logging.getLogger("continuum.client")

POLL_S = 1.0


def _read_tip(journal: Journal, run_id: str) -> RunInfo:
    info = journal.get_run(journal.tip(run_id))
    # The tip can continue between the two reads: a continued run is never the answer.
    while info.continued_to_run_id is not None:
        info = journal.get_run(info.continued_to_run_id)
    return info


def _tip(journal: Journal, run_id: str) -> RunInfo:
    # A long wait outlives connection blips: re-read through them.
    return retry_transient(lambda: _read_tip(journal, run_id), within_s=30.0)


def wait_for_terminal(
    journal: Journal, dsn: str, run_id: str, timeout: float | None, *, poll_s: float = POLL_S
) -> RunInfo:
    """The terminal record at the tip of ``run_id``'s chain; ``ResultTimeout`` past ``timeout``.

    Listens before the first read, so a finish between the read and the wait is never
    missed; a NOTIFY only triggers a re-read (payloads are ids, the row is the truth).
    """
    deadline = None if timeout is None else time.monotonic() + timeout
    conn: psycopg.Connection[tuple[object, ...]] | None = None
    try:
        try:
            conn = psycopg.connect(dsn, autocommit=True, application_name="continuum-result")
            conn.execute("LISTEN continuum_run_finished")
        except psycopg.Error as exc:
            _log.warning("result(): LISTEN unavailable (%s); polling instead", exc)
            conn = None
        while True:
            info = _tip(journal, run_id)
            if info.state.terminal:
                return info
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise ResultTimeout(
                    f"run {run_id!r} did not finish within {timeout:g}s; it is still "
                    "running — call result() again or check `continuum runs show`"
                )
            slice_s = poll_s if remaining is None else min(poll_s, remaining)
            if conn is None:
                time.sleep(slice_s)
                continue
            try:
                # Other runs finishing are not our business: re-read only for our tip (a
                # continuation's finish moves the tip; the poll slice covers that).
                for note in conn.notifies(timeout=slice_s):
                    if note.payload in (info.id, ""):
                        break
            except psycopg.Error:
                conn = None  # the poll fallback carries on
    finally:
        if conn is not None:
            conn.close()
