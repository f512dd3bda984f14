"""One transaction per step: a finished task and its sticky run's next activation.

Without it a step of a sequential workflow costs two transactions on this worker: the
activity's finish (which leases the woken run to us and loads its input) and then the
run's activation commit (which inserts the next task, already leased to us). When the
run is parked here (:mod:`continuum.runtime.sticky`), its next activation needs no
history and costs a fraction of a millisecond, so the activity thread does it *inside*
the finish transaction: finish the task (fenced by its token and attempt), claim the run
(a fresh lease token, only if nobody holds it), load its new input, resume the parked
workflow, and write what it did under that token — one commit for the lot.

Fencing is unchanged: every write carries the task's or the run's token, the run row is
locked from the claim to the commit, and the run's journal is checked to end where the
parked workflow stopped. Anything else — the run not parked here, its activation ending
the run (a terminal outcome may lock a parent), an error — keeps the two-transaction
path: the finish commits alone (or is retried alone) and the run is activated as usual.
Holding the transaction open while the workflow runs costs nothing for ordinary steps;
a long ``local=True`` activity in that activation holds the run's row lock meanwhile
(as an activation commit would hold it for its own writes).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from continuum.engine.types import ActivationInput
from continuum.journal.postgres.statements import Cursor
from continuum.journal.records import Lease, TaskFinish, TaskLease
from continuum.runtime.driver import RunDriver, Step
from continuum.runtime.sticky import StickyCache

_log = logging.getLogger("continuum.runtime.fused")


class FusingJournal(Protocol):
    """What the fused path needs of the journal (the Postgres journal has it)."""

    def finish_task_and_step(
        self,
        lease: TaskLease,
        owner: str,
        result: Any,
        step: Callable[[Cursor, Lease, ActivationInput], _Stepped | None],
    ) -> tuple[TaskFinish, Lease | None, ActivationInput | None, _Stepped | None]: ...

    def write_activation(
        self,
        cur: Cursor,
        lease: Lease,
        result: Any,
        *,
        task_owner: str,
        max_tasks: int,
        loaded: ActivationInput | None = None,
    ) -> list[TaskLease]: ...


class TaskSlots(Protocol):
    """The activity pool's slots for tasks leased at commit."""

    def reserve(self, n: int) -> int: ...

    def unreserve(self, n: int) -> None: ...

    def adopt(self, leases: list[TaskLease], reserved: int) -> None: ...

    def poke(self) -> None: ...


@dataclass(slots=True)
class _Stepped:
    step: Step
    leases: list[TaskLease] | None  # None: not written in the transaction (commit it after)
    reserved: int = 0


@dataclass(slots=True)
class Fused:
    """What :meth:`FusedSteps.finish` did: the finish, and whether the run still needs
    activating (``run_lease``/``loaded``: hand it to the run dispatcher)."""

    finish: TaskFinish
    run_lease: Lease | None = None
    loaded: ActivationInput | None = None


class FusedSteps:
    """Finishes successful attempts of parked runs together with their next activation."""

    def __init__(
        self,
        journal: FusingJournal,
        driver: RunDriver,
        sticky: StickyCache,
        slots: TaskSlots,
        owner: str,
    ) -> None:
        self.journal = journal
        self.driver = driver
        self.sticky = sticky
        self.slots = slots
        self.owner = owner
        self.fused = 0

    def wanted(self, task: TaskLease) -> bool:
        """Whether ``task``'s run is parked here (else the ordinary finish is better)."""
        return self.sticky.known_seq(task.run_id) is not None

    def finish(self, task: TaskLease, result: Any) -> Fused:
        """Record ``task``'s successful ``result`` and, in the same transaction, its
        run's next activation when the run is parked here. Errors propagate after the
        parked run was dropped (nothing of the step was committed)."""
        held: list[_Stepped] = []

        def step(cur: Cursor, run_lease: Lease, inp: ActivationInput) -> _Stepped | None:
            begun = self.driver.begin(run_lease, inp, parked_only=True)
            if not isinstance(begun, Step):
                return None
            if begun.parked is not None and begun.parked.refused_local:
                # Whatever the workflow made of it (LOCAL_IN_TRANSACTION, or a failure if
                # it swallowed the stop), nothing is written: the run is activated again
                # the ordinary way, after this commit, and runs its local activity there.
                self.driver.abort(begun)
                return None
            stepped = _Stepped(begun, None)
            held.append(stepped)
            if begun.result.outcome.kind == "suspended":
                wanted = len(begun.result.new_tasks)
                stepped.reserved = self.slots.reserve(wanted) if wanted else 0
                stepped.leases = self.journal.write_activation(
                    cur,
                    run_lease,
                    begun.result,
                    task_owner=self.owner,
                    max_tasks=stepped.reserved,
                    loaded=begun.inp,
                )
            return stepped

        try:
            done, run_lease, loaded, stepped = self.journal.finish_task_and_step(
                task, self.owner, result, step
            )
        except BaseException:
            for s in held:
                self.driver.abort(s.step)
                self.slots.unreserve(s.reserved)
            raise
        if stepped is None:
            return Fused(done, run_lease, loaded)
        if stepped.leases is None:
            # A terminal outcome: committed on its own, after the finish (as before).
            self.driver.complete(stepped.step)
            return Fused(done)
        self.fused += 1
        self.driver.end(stepped.step)
        self.slots.adopt(stepped.leases, stepped.reserved)
        if len(stepped.leases) < len(stepped.step.result.new_tasks):
            self.slots.poke()
        return Fused(done)
