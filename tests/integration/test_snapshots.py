"""Snapshots on real PostgreSQL (SPEC §5, seeds v0.2 and v0.6.1)."""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings

import continuum
from continuum.definitions.workflow import Workflow
from continuum.journal.postgres import PostgresJournal
from tests import snapshot_programs as sp


@continuum.workflow(name="snap.program", snapshot_threshold=2)
def program_with_snapshots(ops: list[list[Any]]) -> list[Any]:
    return sp.interpret(ops)


@continuum.workflow(name="snap.program_plain")
def program_plain(ops: list[list[Any]]) -> list[Any]:
    return sp.interpret(ops)


@continuum.workflow(name="snap.ticks", snapshot_threshold=4)
def ticks(n: int) -> int:
    total = 0
    for i in range(n):
        total += int(continuum.wait_signal("tick"))
        total += int(continuum.side_effect(lambda i=i: i))
    return total


@continuum.workflow(name="snap.ticks_by_worker")
def ticks_by_worker(n: int) -> int:
    total = 0
    for _ in range(n):
        total += int(continuum.wait_signal("tick"))
    return total


class Telemetry:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def __call__(self, event: str, meta: dict[str, Any]) -> None:
        with self._lock:
            self.events.append((event, meta))

    def of(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for e, m in self.events if e == name]


@pytest.fixture
def seen() -> Iterator[Telemetry]:
    handler = Telemetry()
    ids = [
        continuum.telemetry.attach(name, handler) for name in ("snapshot.taken", "snapshot.skipped")
    ]
    yield handler
    for i in ids:
        continuum.telemetry.detach(i)


@pytest.fixture
def client(pg_dsn: str) -> Iterator[continuum.Client]:
    with continuum.Client(pg_dsn, instance=f"s-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _worker(client: continuum.Client, **kwargs: Any) -> continuum.Worker:
    flows = [program_with_snapshots, program_plain, sp.leaf, ticks, ticks_by_worker]
    return continuum.Worker(
        client,
        workflows=flows,
        activities=[sp.triple, sp.release],
        poll_interval=0.2,
        max_runs=8,
        **kwargs,
    )


def _snapshots(dsn: str, run_id: str) -> list[tuple[int, int]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT seq, format_version FROM continuum_snapshots WHERE run_id = %s ORDER BY seq",
            (run_id,),
        ).fetchall()
    return [(int(a), int(b)) for a, b in rows]


def _wait(check: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _events(client: continuum.Client, run_id: str) -> int:
    return len(client.history(run_id))


def _tick_through(client: continuum.Client, run_id: str, n: int) -> None:
    """Send n ticks one at a time, each consumed in its own activation."""
    for _ in range(n):
        before = _events(client, run_id)
        client.signal(run_id, "tick", 1)
        _wait(lambda before=before: _events(client, run_id) > before)
        _wait(lambda: client.get_run(run_id).state != continuum.RunState.RUNNING)


def test_snapshot_every_n_events_and_a_resume_reads_only_the_tail(
    client: continuum.Client, pg_dsn: str, seen: Telemetry
) -> None:
    with _worker(client):
        rid = client.start(ticks, 6)
        _tick_through(client, rid, 5)
        taken = seen.of("snapshot.taken")
        assert taken and all(m["run_id"] == rid and m["instance"] for m in taken)
        stored = _snapshots(pg_dsn, rid)
        assert 1 <= len(stored) <= 2  # the newest and one fallback
        assert all(version == 1 for _, version in stored)
        seqs = [m["seq"] for m in taken]
        assert all(b - a >= 4 for a, b in itertools.pairwise(seqs))  # every ~4 events
    # Load the run as a resume would: the snapshot plus the events after it.
    last_seq = len(client.history(rid))
    with PostgresJournal(pg_dsn) as journal:
        lease = journal.claim_run(rid, "test-owner")
        assert lease is not None
        inp = journal.load_activation(lease)
        journal.release_run(lease, timedelta(0))
    newest = stored[-1][0]
    assert inp.snapshot_seq == newest
    assert inp.last_seq == last_seq
    assert [e.seq for e in inp.events if e.seq > newest] == list(range(newest + 1, last_seq + 1))
    assert len(inp.events) < last_seq  # run_started was compacted away
    with _worker(client):
        client.signal(rid, "tick", 1)
        assert client.result(rid, timeout=30) == 6 + sum(range(6))


def test_workflow_threshold_wins_over_the_worker_and_worker_default_applies(
    client: continuum.Client, pg_dsn: str, seen: Telemetry
) -> None:
    with _worker(client, snapshot_threshold=1000):
        own = client.start(ticks, 4)
        _tick_through(client, own, 3)
        assert _snapshots(pg_dsn, own)  # 4 < 1000: the workflow's threshold was used
    with _worker(client, snapshot_threshold=2):
        by_worker = client.start(ticks_by_worker, 3)
        _tick_through(client, by_worker, 3)
        assert client.result(by_worker, timeout=30) == 3
        assert _snapshots(pg_dsn, by_worker)  # the worker's default applied
        assert by_worker in {m["run_id"] for m in seen.of("snapshot.taken")}
    with _worker(client):  # no threshold anywhere: no snapshots
        plain = client.start(ticks_by_worker, 2)
        _tick_through(client, plain, 1)
        assert _snapshots(pg_dsn, plain) == []


def _insert_snapshot(dsn: str, run_id: str, seq: int, version: int, payload: str) -> None:
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "INSERT INTO continuum_snapshots (run_id, seq, format_version, payload)"
            " VALUES (%s, %s, %s, %s::jsonb)",
            (run_id, seq, version, payload),
        )


@pytest.mark.parametrize(
    ("version", "payload", "reason"),
    [
        (7, '{"format": 7, "anything": true}', "unknown format_version 7"),
        (1, '{"format": 1, "through_seq": 2, "events": [[5, "x"]]}', "corrupt"),
        (1, '"garbage"', "corrupt"),
    ],
)
def test_unreadable_snapshots_are_skipped_with_a_reason_and_the_run_completes(
    client: continuum.Client, pg_dsn: str, seen: Telemetry, version: int, payload: str, reason: str
) -> None:
    with _worker(client):
        rid = client.start(ticks_by_worker, 3)
        _tick_through(client, rid, 1)
    _insert_snapshot(pg_dsn, rid, 2, version, payload)
    with _worker(client):
        _tick_through(client, rid, 1)
        client.signal(rid, "tick", 1)
        assert client.result(rid, timeout=30) == 3  # full replay: never a crash loop
    skipped = seen.of("snapshot.skipped")
    assert skipped and all(reason in m["reason"] for m in skipped), skipped
    assert {m["run_id"] for m in skipped} == {rid}


_VOLATILE = {"fire_at", "fired_at", "at", "inserted_at", "signal_id"}  # clocks, row ids


def _normalized(history: list[dict[str, Any]], run_id: str) -> list[Any]:
    """A journal without what differs between two runs of one program (ids, names, times)."""
    text = json.dumps(history).replace(run_id, "RUN")
    out = []
    for event in json.loads(text):
        command = dict(event.get("command") or {})
        command.pop("workflow", None)
        data = {k: v for k, v in event["data"].items() if k not in _VOLATILE}
        if event["type"] == "run_started":
            data = {"input": data.get("input")}
        out.append((event["seq"], event["type"], command, event.get("ref_seq"), data))
    return out


def _run_program(client: continuum.Client, flow: Workflow[Any, Any], ops: list[list[Any]]) -> str:
    rid = client.start(flow, ops)
    for name, payload in sp.signals_of(ops):
        client.signal(rid, name, payload)
    return rid


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=sp.programs(sp.DETERMINISTIC_OPS, max_size=8))
def test_random_programs_give_the_same_result_and_journal_with_and_without_snapshots(
    client: continuum.Client, ops: list[list[Any]]
) -> None:
    # Runs and their signals exist before any worker does: both runs see the same mailbox.
    with_snap = _run_program(client, program_with_snapshots, ops)
    plain = _run_program(client, program_plain, ops)
    with _worker(client):
        assert client.result(with_snap, timeout=60) == client.result(plain, timeout=60)
    assert _normalized(client.history(with_snap), with_snap) == _normalized(
        client.history(plain), plain
    )


def test_patched_sagas_open_children_and_mailbox_survive_snapshots(
    client: continuum.Client, pg_dsn: str, seen: Telemetry
) -> None:
    ops = [
        ["patch", 1],
        ["saga", 1],
        ["open", 2],
        ["signal", 1],
        ["saga", 2],
        ["act", 3],
        ["signal", 1],
        ["patch", 1],
        ["timer", 1],
        ["undo", 1],
        ["child", 1],
    ]
    sp.COMPENSATED.clear()
    with_snap = _run_program(client, program_with_snapshots, ops)
    with _worker(client):
        result = client.result(with_snap, timeout=60)
    compensated = list(sp.COMPENSATED)
    sp.COMPENSATED.clear()
    plain = _run_program(client, program_plain, ops)
    with _worker(client):
        assert client.result(plain, timeout=60) == result
    # The open child's result comes last: it was started third and awaited at the end.
    assert result == [True, 3, "payload-3", 6, 9, "payload-6", True, "slept", "undone", 4, 7]
    assert compensated == sp.COMPENSATED == [2, 1]  # LIFO, once each, despite snapshots
    assert len(seen.of("snapshot.taken")) >= 3
    assert _normalized(client.history(with_snap), with_snap) == _normalized(
        client.history(plain), plain
    )
