"""Group commit: writes finishing at the same time share one transaction.

Every run slot of a worker commits its activation through a :class:`GroupCommitter`,
and every activity slot records its task's outcome through another. The first caller
to find no write in progress becomes the *leader*: it takes every item waiting at that
moment (its own included) and writes them with one call of the journal's batch method
(``commit_activations``, ``finish_tasks``) — one transaction for the lot, each run and
task still fenced by its own token. Callers arriving meanwhile wait for the leader;
when it is done one of them leads the next batch. With nothing else waiting, a write is
a batch of one, made at once by its own thread: no extra thread, no added latency when
the worker is idle.

An item the batch does not write (see :mod:`continuum.journal.postgres.batch` and
:mod:`~continuum.journal.postgres.batch_tasks`), or every item of a batch whose
transaction failed, is written on its own by the caller through the ordinary path,
which keeps its own error handling (a fenced lease, a transient database error)
exactly as without batching.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from continuum.journal.postgres.batch import batchable

_log = logging.getLogger("continuum.runtime.group_commit")

MAX_BATCH = 64

__all__ = ["MAX_BATCH", "GroupCommitter", "batchable"]

I = TypeVar("I")
R = TypeVar("R")


@dataclass(slots=True)
class _Slot(Generic[I, R]):
    item: I
    # Held while the caller waits; released by a leader when the item is done, or when
    # this caller is to lead the next batch. One lock per caller: a finished batch wakes
    # exactly its members and the next leader, never every waiting thread.
    wake: threading.Lock = field(default_factory=threading.Lock)
    done: bool = False
    outcome: R | BaseException | None = None


class GroupCommitter(Generic[I, R]):
    """Batches concurrent writes of one worker (leader/follower).

    ``commit_batch(items)`` writes a batch in one transaction and returns one outcome
    per item: its result, its own exception, or ``None`` (write it on your own). The
    worker has two: activation commits (the journal's ``commit_activations``) and
    activity task finishes (``finish_tasks``).
    """

    def __init__(
        self,
        commit_batch: Callable[[list[I]], Sequence[R | BaseException | None]],
        *,
        max_batch: int = MAX_BATCH,
        name: str = "group commit",
    ) -> None:
        self.commit_batch = commit_batch
        self.max_batch = max_batch
        self.name = name
        self._mutex = threading.Lock()
        self._queue: list[_Slot[I, R]] = []
        self._busy = False
        self.batches = 0
        self.batched = 0

    def commit(self, item: I) -> R | None:
        """Write ``item`` in a group; its result, or ``None``: write it on your own.

        Raises the item's own error (``Fenced``, ``PayloadError``) when it has one.
        """
        slot: _Slot[I, R] = _Slot(item)
        slot.wake.acquire()
        with self._mutex:
            self._queue.append(slot)
            lead = not self._busy
            self._busy = True
        if not lead:
            slot.wake.acquire()  # our batch is done, or we are the next leader
        if not slot.done:
            self._lead(slot)
        if isinstance(slot.outcome, BaseException):
            raise slot.outcome
        return slot.outcome

    def _lead(self, own: _Slot[I, R]) -> None:
        # The leader is always at the head of the queue: it takes the next batch.
        with self._mutex:
            batch = self._queue[: self.max_batch]
            del self._queue[: len(batch)]
        outcomes: Sequence[R | BaseException | None] = [None] * len(batch)
        try:
            outcomes = self.commit_batch([s.item for s in batch])
        except Exception as exc:
            # Nothing was written: every member writes on its own (and meets the error
            # there, with the ordinary path's handling, if it persists).
            _log.debug("%s of %d items failed (%s); writing singly", self.name, len(batch), exc)
        finally:
            with self._mutex:
                for s, outcome in zip(batch, outcomes, strict=True):
                    s.outcome = outcome
                    s.done = True
                self.batches += 1
                self.batched += len(batch)
                following = self._queue[0] if self._queue else None
                self._busy = following is not None
            for s in batch:
                if s is not own:
                    s.wake.release()
            if following is not None:
                following.wake.release()  # it leads the next batch
