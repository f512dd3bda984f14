"""``Client`` queues (SPEC §15) and fork (SPEC §16)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from continuum.client.base import ClientBase, not_in_workflow
from continuum.errors import ConfigurationError
from continuum.journal.postgres import fork as fork_ops
from continuum.journal.postgres import queues as queue_ops
from continuum.models import QueueInfo
from continuum.validation import check_name, check_new_run_id, check_run_id


def check_queue(queue: object, priority: object, operation: str, client: str = "Client") -> None:
    """Validate ``queue=`` / ``priority=`` of a start."""
    if queue is not None and (not isinstance(queue, str) or not queue):
        raise ConfigurationError(
            f"{client}.{operation}: queue must be a non-empty string, got {queue!r}"
        )
    if queue is not None:
        check_name(queue, what="the queue name", operation=f"{client}.{operation}")
    if isinstance(priority, bool) or not isinstance(priority, int):
        raise ConfigurationError(
            f"{client}.{operation}: priority must be an int (lower starts first), got {priority!r}"
        )


def check_limits(
    name: str,
    concurrency: int | None,
    rate_limit: tuple[int, timedelta] | None,
    client: str = "Client",
) -> None:
    """Validate a ``configure_queue()`` call."""
    check_queue(name, 0, "configure_queue", client)
    if concurrency is not None and (
        isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
    ):
        raise ConfigurationError(
            f"{client}.configure_queue: concurrency must be an int >= 1 or None, "
            f"got {concurrency!r}"
        )
    if rate_limit is not None:
        ok = (
            isinstance(rate_limit, tuple)
            and len(rate_limit) == 2
            and isinstance(rate_limit[0], int)
            and not isinstance(rate_limit[0], bool)
            and rate_limit[0] >= 1
            and isinstance(rate_limit[1], timedelta)
            and rate_limit[1] > timedelta(0)
        )
        if not ok:
            raise ConfigurationError(
                f"{client}.configure_queue: rate_limit must be (count >= 1, timedelta > 0), "
                f"e.g. (100, minutes(1)); got {rate_limit!r}"
            )


def fork_id(run_id: str, at_seq: int | None, id: str | None, client: str = "Client") -> str:
    """Validate a ``fork()`` call; the new run's id (``id``, else a fresh one)."""
    if at_seq is not None and (
        isinstance(at_seq, bool) or not isinstance(at_seq, int) or at_seq < 1
    ):
        raise ConfigurationError(
            f"{client}.fork: at_seq must be an int >= 1 (seqs start at 1, as "
            f"{client}.history shows them) or None, got {at_seq!r}"
        )
    check_run_id(run_id, operation=f"{client}.fork")
    if id is not None:
        check_new_run_id(id, operation=f"{client}.fork")
    return id or f"{run_id}~fork-{uuid.uuid4().hex[:8]}"


class QueueMixin(ClientBase):
    """Queues with concurrency and rate limits, and fork."""

    def configure_queue(
        self,
        name: str,
        *,
        concurrency: int | None = None,
        rate_limit: tuple[int, timedelta] | None = None,
    ) -> None:
        """Store the limits of queue ``name`` (replacing earlier ones).

        At most ``concurrency`` of its runs are started and not finished at once, and at
        most ``rate_limit[0]`` start per ``rate_limit[1]``, across every worker.
        """
        not_in_workflow("configure_queue")
        check_limits(name, concurrency, rate_limit)
        self.journal.transaction(
            lambda cur: queue_ops.configure(cur, name, concurrency, rate_limit)
        )

    def queues(self) -> list[QueueInfo]:
        """Every queue with its limits and running/queued counts."""
        not_in_workflow("queues")
        return self.journal.transaction(queue_ops.list_queues)

    def fork(self, run_id: str, at_seq: int | None = None, id: str | None = None) -> str:
        """Start a new run of ``run_id``'s workflow whose journal is a copy of its events
        with ``seq <= at_seq`` (all but a terminal event when ``None``); returns its id.

        The new run uses the currently loaded version of the workflow (else the
        original's); replay consumes the copy, then it continues live. The original
        is untouched. Raises ``RunNotFound``, ``ForkError`` and ``RunAlreadyExists``.
        """
        not_in_workflow("fork")
        new_id = fork_id(run_id, at_seq, id)
        source = self.journal.get_run(run_id)
        version = self.current_version(source.workflow) or source.version_hash
        return self.journal.transaction(
            lambda cur: fork_ops.fork(cur, run_id, at_seq, new_id, version)
        )
