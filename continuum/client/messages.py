"""``Client`` events and updates (SPEC §13): read what a run published, ask it something.

Waiting calls share one LISTEN connection per client (:class:`NotifyHub`), started on
first use and stopped by ``Client.close``; every wait re-reads the database on each
NOTIFY and at least every half second, so a lost notification costs latency only.
"""

from __future__ import annotations

import threading
from typing import Any

from continuum import payloads
from continuum.client.answers import answer_of, settled
from continuum.client.base import ClientBase, not_in_workflow
from continuum.client.listener import NotifyHub, wait_until
from continuum.errors import UpdateTimeout
from continuum.journal.channels import RUN_FINISHED
from continuum.journal.postgres.messages import EVENT_SET, UPDATE_ANSWERED
from continuum.journal.records import UpdateStatus
from continuum.validation import check_name, check_run_id


class MessagesMixin(ClientBase):
    """``get_event``, ``events`` and ``update``."""

    _notify: NotifyHub | None = None
    _notify_lock = threading.Lock()  # class-wide: starting a listener is rare and quick

    @property
    def dsn(self) -> str:
        raise NotImplementedError

    def _hub(self) -> NotifyHub:
        with self._notify_lock:  # one listener per client, however many threads wait
            if self._notify is None:
                hub = NotifyHub(self.dsn, (UPDATE_ANSWERED, RUN_FINISHED, EVENT_SET))
                hub.start()
                self._notify = hub
            return self._notify

    def _stop_listening(self) -> None:
        with self._notify_lock:
            if self._notify is not None:
                self._notify.stop()
                self._notify = None

    def get_event(self, run_id: str, key: str, timeout: float | None = None) -> Any:
        """The value the run's chain published under ``key`` (``continuum.set_event``).

        Waits until it is set (NOTIFY, with a poll backstop); raises ``UpdateTimeout``
        (a ``TimeoutError``) when ``timeout`` seconds pass first, ``RunNotFound`` for an
        unknown run. Needs no worker: events are stored with the run.
        """
        not_in_workflow("get_event")
        check_run_id(run_id, operation="Client.get_event")
        check_name(key, what="the event key", operation="Client.get_event")
        journal = self.journal
        chain = journal.get_run(run_id).correlation_id or run_id

        def check() -> tuple[bool, Any] | None:
            found = journal.get_event(run_id, key)
            return found if found[0] else None

        got = wait_until(self._hub(), [(EVENT_SET, chain)], check, timeout)
        if got is None:
            raise UpdateTimeout(
                f"run {run_id!r} did not set event {key!r} within {timeout:g}s "
                "(Client.get_event); check `continuum runs events` for what it published"
            )
        return got[1]

    def events(self, run_id: str) -> dict[str, Any]:
        """Every event the run's chain published, by key (``RunNotFound`` if unknown)."""
        not_in_workflow("events")
        check_run_id(run_id, operation="Client.events")
        return self.journal.events(run_id)

    def update(
        self,
        run_id: str,
        name: str,
        payload: Any = None,
        timeout: float | None = None,
        *,
        type: Any = None,
    ) -> Any:
        """Send update ``name`` to the run (its chain's live tip) and return the reply.

        The workflow takes it with ``continuum.wait_update(name)`` and answers with
        ``continuum.reply`` (returned here, decoded with ``type=`` if given) or
        ``continuum.reject`` (raises ``UpdateRejected``). Raises ``RunTerminal`` when
        the run is (or ends) finished without answering, ``UpdateTimeout`` (a
        ``TimeoutError``) after ``timeout`` seconds — an update the workflow had not
        accepted yet is then withdrawn — and ``PayloadError`` (nothing written) for a
        payload that is not JSON.
        """
        not_in_workflow("update")
        check_run_id(run_id, operation="Client.update")
        check_name(name, what="the update name", operation="Client.update")
        encoded = payloads.encode(payload, what=f"payload of update {name!r}")
        journal = self.journal
        hub = self._hub()
        update_id, tip = journal.send_update(run_id, name, encoded)
        wants = [(UPDATE_ANSWERED, str(update_id)), (RUN_FINISHED, tip)]

        def check() -> UpdateStatus | None:
            status = journal.update_status(update_id)
            return status if settled(status) else None

        status = wait_until(hub, wants, check, timeout) or journal.update_status(update_id)
        return answer_of(status, name, type, journal)
