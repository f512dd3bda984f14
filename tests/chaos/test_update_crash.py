"""A worker SIGKILLed between an update's acceptance and its reply: the caller of
``Client.update`` still gets exactly one reply, from the worker that resumes the run."""

from __future__ import annotations

import importlib
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from chaos_support import Workers, wait_until

from continuum.client import Client

FLOWS = """
import os, time
import continuum
from continuum import seconds

LOG = {log!r}

@continuum.activity(max_attempts=2, backoff=continuum.Backoff(initial=seconds(0.01)))
def charge(amount: int) -> str:
    with open(LOG, "a") as f:
        f.write(f"{{amount}}:{{os.getpid()}}\\n")
        f.flush()
        os.fsync(f.fileno())
    if os.environ.get("CHAOS_SLOW") == "1":
        time.sleep(120)
    return f"charged {{amount}}"

@continuum.workflow(name="chaos.update_crash")
def pay_on_request(_: None) -> str:
    upd = continuum.wait_update("pay")
    receipt = continuum.execute(charge, upd.payload)
    continuum.reply(upd, receipt)
    return receipt
"""


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"u-{uuid.uuid4().hex[:8]}") as c:
        yield c


def _lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_worker_killed_after_accepting_an_update_still_answers_once(
    client: Client, workers: Workers, tmp_path: Path
) -> None:
    log = tmp_path / "charges.log"
    module = workers.write_module(FLOWS.format(log=str(log)))
    sys.path.insert(0, str(workers.tmp_path))
    try:
        mod = importlib.import_module(module)
    finally:
        sys.path.remove(str(workers.tmp_path))
    run_id = client.start(mod.pay_on_request, None, id="upd-crash")
    victim = workers.spawn(module, env={"CHAOS_SLOW": "1"})

    replies: list[object] = []
    errors: list[BaseException] = []

    def call() -> None:
        try:
            replies.append(client.update(run_id, "pay", 42, timeout=120))
        except BaseException as exc:  # reported below
            errors.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    # The update was accepted (journaled) and the charge is running when the worker dies.
    wait_until(lambda: len(_lines(log)) == 1, 60, "the charge to start")
    with psycopg.connect(client.dsn) as conn:
        accepted = conn.execute(
            "SELECT accepted_at IS NOT NULL, answered_at IS NULL FROM continuum_updates"
        ).fetchall()
    assert accepted == [(True, True)]
    workers.kill(victim)
    workers.spawn(module)

    caller.join(120)
    assert not caller.is_alive()
    assert errors == []
    assert replies == ["charged 42"]
    assert client.result(run_id, timeout=60) == "charged 42"
    history = [e["type"] for e in client.history(run_id)]
    assert history.count("update_received") == 1
    assert history.count("update_replied") == 1
    with psycopg.connect(client.dsn) as conn:
        rows = conn.execute("SELECT status, answer FROM continuum_updates").fetchall()
    assert rows == [("replied", "charged 42")]
