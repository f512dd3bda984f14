"""Named crash points for the chaos suite (``bench/chaos/``): off unless asked for.

``CONTINUUM_CRASH_POINT=after_side_effect`` (or ``after_journal_append``,
``after_claim``) with ``CONTINUUM_CRASH_PROBABILITY=0.05`` makes a worker process exit
at once (as SIGKILL would: no cleanup, no flush) each time it passes that point, with
that probability. These are the three places where a crash is most likely to expose a
lost or duplicated effect: an activity's side effect done but its outcome not yet
committed; a journal append committed but not yet acknowledged to the worker; a run
claimed but not yet activated. Nothing here runs when the variable is unset.
"""

from __future__ import annotations

import os
import random

POINTS = frozenset({"after_side_effect", "after_journal_append", "after_claim"})
_POINT = os.environ.get("CONTINUUM_CRASH_POINT", "")
_PROBABILITY = float(os.environ.get("CONTINUUM_CRASH_PROBABILITY", "0") or 0)


def crash_point(name: str) -> None:
    """Exit the process right here if the chaos suite asked for a crash at ``name``."""
    if name == _POINT and random.random() < _PROBABILITY:
        os._exit(137)
