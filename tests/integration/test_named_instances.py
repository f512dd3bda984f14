"""Two named instances in one process, bound to two databases (seed v0.2 multi-instance).

Each has its own client pool, worker, registry of workflows and LISTEN connection: a
signal to a run of one never wakes the other, even when both hold a run of the same id
waiting for the same signal name.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

import continuum
from continuum import instance as instances
from continuum.db.admin import clone_database, drop_database
from continuum.definitions.versions import VersionRegistry
from continuum.errors import ConfigurationError


@continuum.workflow(name="instances.billing")
def billing_flow(order: str) -> str:
    approval = continuum.wait_signal("go")
    return f"billed {order} ({approval})"


@continuum.workflow(name="instances.search")
def search_flow(query: str) -> str:
    approval = continuum.wait_signal("go")
    return f"indexed {query} ({approval})"


@pytest.fixture
def second_dsn(pg_server_dsn: str, pg_template: str) -> Iterator[str]:
    name = f"t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    dsn = clone_database(pg_server_dsn, pg_template, name)
    try:
        yield dsn
    finally:
        drop_database(pg_server_dsn, name)


def _events(dsn: str, run_id: str) -> list[str]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT type FROM continuum_events WHERE run_id = %s ORDER BY seq", (run_id,)
        ).fetchall()
    return [r[0] for r in rows]


def _wait_until(check: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def test_two_instances_two_databases_a_signal_to_one_never_wakes_the_other(
    pg_dsn: str, second_dsn: str
) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    lock = threading.Lock()

    def record(event: str, meta: dict[str, Any]) -> None:
        with lock:
            seen.append((event, meta))

    handler = continuum.telemetry.attach("*", record)
    billing = continuum.Client(pg_dsn, instance="billing")
    search = continuum.Client(second_dsn, instance="search")
    # Each worker knows only its own workflows (its own registry of definitions).
    billing_worker = continuum.Worker(billing, workflows=[billing_flow], poll_interval=0.2)
    search_worker = continuum.Worker(
        search, workflows=[search_flow], poll_interval=0.2, signal_backstop=60.0
    )
    try:
        with billing, search, billing_worker, search_worker:
            assert set(instances.instances()) >= {"billing", "search"}
            # The same business key in both databases, waiting on the same signal name.
            b = billing.start(billing_flow, "order-1", id="shared-key")
            s = search.start(search_flow, "order-1", id="shared-key")
            _wait_until(lambda: billing.get_run(b).state == continuum.RunState.SUSPENDED)
            _wait_until(lambda: search.get_run(s).state == continuum.RunState.SUSPENDED)
            with lock:
                seen.clear()

            billing.signal(b, "go", "approved")
            assert billing.result(b, timeout=30) == "billed order-1 (approved)"
            time.sleep(0.5)  # give a stray wake-up time to show itself
            assert search.get_run(s).state == continuum.RunState.SUSPENDED
            assert _events(second_dsn, s) == ["run_started", "signal_awaited"]
            with lock:
                by_instance = {
                    name: [
                        e for e, meta in seen if meta["instance"] == name and e.startswith("run.")
                    ]
                    for name in ("billing", "search")
                }
            assert "run.completed" in by_instance["billing"]
            assert by_instance["search"] == []  # the search worker never activated its run

            search.signal(s, "go", "later")
            assert search.result(s, timeout=30) == "indexed order-1 (later)"
            # Each database holds only its own run.
            assert billing.get_run("shared-key").workflow == "instances.billing"
            assert search.get_run("shared-key").workflow == "instances.search"
    finally:
        continuum.telemetry.detach(handler)


def test_a_name_cannot_be_bound_to_two_databases_at_once(pg_dsn: str, second_dsn: str) -> None:
    with continuum.Client(pg_dsn, instance="orders") as first:
        first.query()
        other = continuum.Client(second_dsn, instance="orders")
        with pytest.raises(ConfigurationError, match="already bound"):
            other.query()
        other.close()
    # Closed, the name is free for another database.
    with continuum.Client(second_dsn, instance="orders") as again:
        assert again.query().runs == []


@dataclass(frozen=True)
class _Binding:
    """Not a Client: only what a worker takes from one (``continuum.instance.Binding``)."""

    instance_name: str
    dsn: str
    versions: VersionRegistry


def test_a_worker_needs_only_a_binding_not_a_client(pg_dsn: str) -> None:
    binding = _Binding("bare-worker", pg_dsn, VersionRegistry())
    worker = continuum.Worker(binding, workflows=[billing_flow], poll_interval=0.2)
    with continuum.Client(pg_dsn, instance="bare-client") as client, worker:
        run_id = client.start(billing_flow, "order-7")
        client.signal(run_id, "go", "ok")
        assert client.result(run_id, timeout=30) == "billed order-7 (ok)"
    # The worker ran under the binding's instance name, on the binding's database.
    assert worker.instance_name == "bare-worker"
    assert worker.id.split("/")[2] == "bare-worker"
    assert _events(pg_dsn, run_id)[-1] == "run_completed"
