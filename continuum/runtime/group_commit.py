"""Group commit: activations finishing at the same time share one transaction.

Every run slot of a worker commits its activation through :meth:`GroupCommitter.commit`.
The first caller to find no commit in progress becomes the *leader*: it takes every
activation waiting at that moment (its own included) and writes them with the
journal's ``commit_activations`` — one transaction for the lot, each run still fenced
by its own lease token. Callers arriving meanwhile wait for the leader; when it is done
one of them leads the next batch. With nothing else waiting, a commit is a batch of
one, written at once by its own thread: no extra thread, no added latency when idle.

An activation the batch does not write (see :mod:`continuum.journal.postgres.batch`),
or every activation of a batch whose transaction failed, is committed on its own by
the caller through the ordinary path, which keeps its own error handling (a fenced
lease, a transient database error) exactly as without batching.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from continuum.engine.types import ActivationResult
from continuum.journal.postgres.batch import batchable
from continuum.journal.records import Lease, TaskLease

_log = logging.getLogger("continuum.runtime.group_commit")

BatchCommit = Callable[
    [Sequence[tuple[Lease, ActivationResult, int]]], list[list[TaskLease] | BaseException | None]
]
"""``items -> outcomes``: the journal's ``commit_activations`` for this worker."""

MAX_BATCH = 64

__all__ = ["MAX_BATCH", "GroupCommitter", "batchable"]


@dataclass(slots=True)
class _Slot:
    lease: Lease
    result: ActivationResult
    max_tasks: int
    done: bool = False
    outcome: list[TaskLease] | BaseException | None = None


class GroupCommitter:
    """Batches concurrent activation commits of one worker (leader/follower)."""

    def __init__(self, commit_batch: BatchCommit, *, max_batch: int = MAX_BATCH) -> None:
        self.commit_batch = commit_batch
        self.max_batch = max_batch
        self._cond = threading.Condition()
        self._queue: list[_Slot] = []
        self._busy = False
        self.batches = 0
        self.batched = 0

    def commit(
        self, lease: Lease, result: ActivationResult, max_tasks: int
    ) -> list[TaskLease] | None:
        """Commit in a group; the task leases taken, or ``None``: commit it on your own.

        Raises the item's own error (``Fenced``, ``PayloadError``) when it has one.
        """
        slot = _Slot(lease, result, max_tasks)
        with self._cond:
            self._queue.append(slot)
        while True:
            with self._cond:
                while not slot.done and self._busy:
                    self._cond.wait()
                if slot.done:
                    break
                self._busy = True
                batch = self._queue[: self.max_batch]
                del self._queue[: len(batch)]
            self._lead(batch)
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome

    def _lead(self, batch: list[_Slot]) -> None:
        outcomes: Sequence[list[TaskLease] | BaseException | None]
        try:
            outcomes = self.commit_batch([(s.lease, s.result, s.max_tasks) for s in batch])
        except Exception as exc:
            # Nothing was written: every member commits on its own (and meets the error
            # there, with the ordinary path's handling, if it persists).
            _log.debug(
                "group commit of %d activations failed (%s); committing singly", len(batch), exc
            )
            outcomes = [None] * len(batch)
        with self._cond:
            for s, outcome in zip(batch, outcomes, strict=True):
                s.outcome = outcome
                s.done = True
            self._busy = False
            self.batches += 1
            self.batched += len(batch)
            self._cond.notify_all()
