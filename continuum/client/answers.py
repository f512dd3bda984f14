"""Turning an update request's stored status into what ``update()`` returns or raises."""

from __future__ import annotations

from typing import Any, Protocol

from continuum import payloads
from continuum.errors import RunTerminal, UpdateRejected, UpdateTimeout
from continuum.journal.records import UpdateStatus
from continuum.models import TERMINAL_STATES


class Withdraws(Protocol):
    """A journal that can take back an update request nobody accepted."""

    def withdraw_update(self, update_id: int) -> bool:
        """Remove the request if it was not accepted; ``False`` if it was."""
        ...


def settled(status: UpdateStatus) -> bool:
    """Whether ``update()`` can return now: answered, or its run has ended."""
    return status.status is not None or status.run_state in TERMINAL_STATES


def answer_of(status: UpdateStatus, name: str, type: Any, journal: Withdraws) -> Any:
    """The reply; or ``UpdateRejected`` / ``RunTerminal`` / ``UpdateTimeout``.

    An unanswered request of a live run times out: it is withdrawn first when the
    workflow has not accepted it yet, so it is never acted on after the caller gave up.
    """
    if status.status == "replied":
        return payloads.decode(status.answer, type, what=f"reply to update {name!r}")
    if status.status == "rejected":
        raise UpdateRejected(str(status.answer), run_id=status.run_id, update=name)
    if status.run_state in TERMINAL_STATES:
        raise RunTerminal(status.run_id, status.run_state, "answer an update of")
    withdrawn = journal.withdraw_update(status.id)
    what = (
        "it was withdrawn (the workflow never waited for it)"
        if withdrawn
        else "the workflow accepted it and will still answer, but nobody will read it"
    )
    raise UpdateTimeout(
        f"update {name!r} of run {status.run_id} got no answer in time; {what}. "
        f"Check that the workflow calls continuum.wait_update({name!r}) and replies, "
        "or pass a longer timeout"
    )
