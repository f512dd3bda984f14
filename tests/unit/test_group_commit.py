"""The group committer's leader/follower hand-off (the SQL side is in tests/integration)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from continuum.engine.types import ActivationResult, Outcome, TimerSpec
from continuum.journal.fencing import Fenced
from continuum.journal.records import Lease, TaskLease
from continuum.runtime.group_commit import GroupCommitter, batchable

Item = tuple[Lease, ActivationResult, int]


def _item(run_id: str) -> tuple[Lease, ActivationResult]:
    return Lease(run_id, "w", 1, "wf", "h"), ActivationResult(Outcome("suspended"))


def test_concurrent_commits_share_batches_and_each_gets_its_own_outcome() -> None:
    seen: list[list[str]] = []
    first_started = threading.Event()
    release = threading.Event()

    def commit_batch(items: list[Item]) -> list[list[TaskLease] | BaseException | None]:
        seen.append([lease.run_id for lease, _, _ in items])
        if len(seen) == 1:
            first_started.set()
            release.wait(5)  # hold the first batch so the others queue behind it
        return [Fenced(lease.run_id) if lease.run_id == "r3" else [] for lease, _, _ in items]

    committer: GroupCommitter[Item, list[TaskLease]] = GroupCommitter(commit_batch)
    results: dict[str, object] = {}

    def run(run_id: str) -> None:
        lease, result = _item(run_id)
        try:
            results[run_id] = committer.commit((lease, result, 0))
        except Fenced as exc:
            results[run_id] = exc

    first = threading.Thread(target=run, args=("r0",))
    first.start()
    assert first_started.wait(5)
    others = [threading.Thread(target=run, args=(f"r{i}",)) for i in range(1, 6)]
    for t in others:
        t.start()
    deadline = time.monotonic() + 5
    while len(committer._queue) < 5 and time.monotonic() < deadline:
        time.sleep(0.001)
    release.set()
    for t in [first, *others]:
        t.join(5)
    assert seen[0] == ["r0"] and sorted(seen[1]) == ["r1", "r2", "r3", "r4", "r5"]
    assert committer.batches == 2 and committer.batched == 6
    assert isinstance(results.pop("r3"), Fenced)
    assert all(v == [] for v in results.values()) and len(results) == 5


def test_a_failed_batch_sends_every_member_to_its_own_commit() -> None:
    def commit_batch(items: list[Item]) -> list[list[TaskLease] | BaseException | None]:
        raise ConnectionError("server closed the connection")

    committer: GroupCommitter[Item, list[TaskLease]] = GroupCommitter(commit_batch)
    lease, result = _item("r0")
    assert committer.commit((lease, result, 0)) is None


def test_only_plain_shapes_are_offered_to_a_batch() -> None:
    plain = ActivationResult(Outcome("suspended"))
    assert batchable(plain) and batchable(ActivationResult(Outcome("completed", result=1)))
    assert not batchable(ActivationResult(Outcome("continued", continue_input=1)))
    assert not batchable(ActivationResult(Outcome("cancelled")))
    timers = ActivationResult(Outcome("suspended"), new_timers=[TimerSpec(1, datetime.now(UTC))])
    assert not batchable(timers)
    assert not batchable(ActivationResult(Outcome("suspended"), consumed_signals=[(1, 2)]))
