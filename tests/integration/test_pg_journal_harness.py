"""Shared workflows and a tiny inline runtime for the Postgres journal tests.

No tests live here: the module only holds what ``test_pg_journal_*`` import, so that
workflows are module-level (as in user code) and every test drives runs the same way
a worker does: ``RunDriver`` (claim → load → activate → commit) plus inline activity
execution through ``run_attempt``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

import continuum
from continuum import seconds
from continuum.definitions.registry import REGISTRY
from continuum.definitions.workflow import Workflow
from continuum.journal.postgres import PostgresJournal
from continuum.journal.records import NewRun, TaskLease
from continuum.runtime.driver import RunDriver
from continuum.runtime.execution import run_attempt

CALLS: list[tuple[str, Any]] = []
_calls_lock = threading.Lock()
GATE = threading.Event()


def record(name: str, value: Any) -> None:
    with _calls_lock:
        CALLS.append((name, value))


@continuum.activity
def greet(name: str) -> str:
    record("greet", name)
    return f"hello {name}"


@continuum.activity(max_attempts=3, backoff=continuum.Backoff(initial=seconds(0.05), factor=2.0))
def flaky(key: str, failures: int) -> str:
    record("flaky", key)
    if sum(1 for n, v in CALLS if n == "flaky" and v == key) <= failures:
        raise RuntimeError(f"flaky {key}")
    return f"ok {key}"


@continuum.activity(max_attempts=1)
def once(key: str) -> str:
    record("once", key)
    return key


@continuum.activity(max_attempts=2)
def twice(key: str) -> str:
    record("twice", key)
    return key


@continuum.workflow
def greeting_flow(name: str) -> dict[str, Any]:
    first = continuum.execute(greet, name)
    second = continuum.execute(flaky, name, 1)
    continuum.sleep(seconds(0.2))
    decision = continuum.wait_signal("decision")
    kid = continuum.child(child_flow, name)
    return {"first": first, "second": second, "decision": decision, "child": kid}


@continuum.workflow
def child_flow(name: str) -> str:
    return continuum.execute(greet, f"child {name}")


@continuum.workflow
def signal_flow(n: int) -> list[Any]:
    return [continuum.wait_signal("go") for _ in range(n)]


@continuum.workflow
def signal_timeout_flow(timeout_s: float) -> str:
    try:
        return str(continuum.wait_signal("go", timeout=seconds(timeout_s)))
    except continuum.SignalTimeout:
        return "timed out"


@continuum.workflow
def activity_flow(key: str) -> str:
    return continuum.execute(once, key)


@continuum.workflow
def twice_flow(key: str) -> str:
    return continuum.execute(twice, key)


@continuum.workflow
def waiter_flow(_: None = None) -> str:
    return str(continuum.wait_signal("never"))


@continuum.workflow
def tree_flow(depth: int) -> str:
    if depth > 0:
        continuum.child(tree_flow, depth - 1)
    return str(continuum.wait_signal("never"))


@continuum.workflow
def spawner_flow(_: None = None) -> str:
    continuum.wait_signal("spawn")
    ref = continuum.start_child(waiter_flow, None, id="kid")
    return continuum.wait_child(ref)


@continuum.workflow
def looping_flow(round: int) -> Any:
    got = continuum.wait_signal("next")
    if got == "stop":
        return {"round": round}
    continuum.continue_as_new(round + 1)


def resolve(name: str, version_hash: str) -> Workflow[Any, Any] | None:
    """Resolver for ``RunDriver``: every workflow registered in this process."""
    return REGISTRY.version(name, version_hash) or REGISTRY.workflow(name)


class Runtime:
    """An inline worker: activate due runs and execute due tasks until nothing is due."""

    def __init__(self, dsn: str, **journal_options: Any) -> None:
        self.dsn = dsn
        self.pool: ConnectionPool[Any] = ConnectionPool(
            dsn, min_size=1, max_size=8, kwargs={"autocommit": False}, open=True
        )
        self.journal = PostgresJournal(self.pool, **journal_options)
        self.driver = RunDriver(self.journal, resolve, None, instance="test")
        self.owner = "test/worker"

    def close(self) -> None:
        self.pool.close()

    def start(self, flow: Workflow[Any, Any], input: Any = None, *, id: str) -> str:
        self.journal.create_run(NewRun(id, flow.name, flow.version_hash, flow.encode_input(input)))
        return id

    def due_runs(self) -> list[str]:
        rows = self.sql(
            "SELECT id FROM continuum_runs WHERE state IN ('running', 'suspended') "
            "AND next_wakeup_at <= now() AND lease_token IS NULL ORDER BY next_wakeup_at"
        )
        return [r["id"] for r in rows]

    def execute(self, task: TaskLease) -> str:
        act = REGISTRY.activity(task.activity)
        out = run_attempt(act, task.args, task.timeout_ms / 1000 if task.timeout_ms else None)
        return self.journal.finish_task(task, ok=out.ok, result=out.result, error=out.error).status

    def activate_due(self) -> bool:
        """Activate every due run once (no activity execution)."""
        progressed = False
        for run_id in self.due_runs():
            if self.driver.activate_run(run_id, self.owner) is not None:
                progressed = True
        return progressed

    def step(self) -> bool:
        progressed = self.activate_due()
        for task in self.journal.claim_tasks(self.owner, 10):
            self.execute(task)
            progressed = True
        return progressed

    def run_until_idle(self, max_steps: int = 200, *, skip_backoff: bool = True) -> None:
        for _ in range(max_steps):
            if self.step():
                continue
            if skip_backoff and self.sql(
                "UPDATE continuum_activity_tasks SET available_at = now() "
                "WHERE state = 'pending' AND available_at > now() RETURNING id"
            ):
                continue
            return
        raise AssertionError("runtime did not settle")

    def sql(self, text: str, params: Any = None) -> list[dict[str, Any]]:
        with (
            psycopg.connect(self.dsn, autocommit=True) as conn,
            conn.cursor(row_factory=dict_row) as cur,
        ):
            cur.execute(text.encode(), params)
            return cur.fetchall() if cur.description else []

    def state(self, run_id: str) -> str:
        return self.journal.get_run(run_id).state.value


@contextmanager
def runtime(dsn: str, **journal_options: Any) -> Iterator[Runtime]:
    rt = Runtime(dsn, **journal_options)
    CALLS.clear()
    try:
        yield rt
    finally:
        rt.close()
