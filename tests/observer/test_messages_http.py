"""The Observer shows a run's published events and pending update requests, and sends
updates (``POST /runs/{id}/update``, CSRF-guarded like every action)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from observer_support import token_from, wait_until
from starlette.testclient import TestClient

import continuum
import continuum.observer
from continuum.client import Client
from continuum.runtime.worker import Worker


@continuum.workflow(name="obs.msg.counter")
def obs_counter(_: None) -> int:
    total = 0
    continuum.set_event("total", total)
    while total < 10:
        upd = continuum.wait_update("add")
        if not isinstance(upd.payload, int):
            continuum.reject(upd, f"cannot add {upd.payload!r}")
            continue
        total += upd.payload
        continuum.set_event("total", total)
        continuum.reply(upd, total)
    return total


@pytest.fixture
def http(client: Client) -> TestClient:
    return TestClient(continuum.observer.app(client))


@pytest.fixture
def counter_worker(client: Client) -> Iterator[Worker]:
    with Worker(client, workflows=[obs_counter], poll_interval=0.2) as w:
        yield w


def test_pending_update_and_events_show_without_a_worker(client: Client, http: TestClient) -> None:
    run_id = client.start(obs_counter, None)
    update_id, _ = client.journal.send_update(run_id, "add", 3)
    body = http.get(f"/api/runs/{run_id}").json()
    assert body["pending_updates"] == [
        {
            "id": update_id,
            "name": "add",
            "payload": 3,
            "inserted_at": body["pending_updates"][0]["inserted_at"],
            "accepted": False,
        }
    ]
    assert body["run_events"] == {}
    text = http.get(f"/runs/{run_id}").text
    assert 'class="pending-updates"' in text and "waiting for the workflow" in text


def test_update_action_shows_the_reply_and_events(
    client: Client, counter_worker: Worker, http: TestClient
) -> None:
    run_id = client.start(obs_counter, None)
    wait_until(lambda: client.events(run_id) == {"total": 0})
    token = token_from(http, f"/runs/{run_id}")
    assert 'id="update-form"' in http.get(f"/runs/{run_id}").text

    sent = http.post(
        f"/runs/{run_id}/update", data={"csrf_token": token, "name": "add", "payload": "4"}
    )
    assert sent.status_code == 200 and "Update answered" in sent.text and "4" in sent.text

    as_json = http.post(
        f"/runs/{run_id}/update",
        data={"csrf_token": token, "name": "add", "payload": "2"},
        headers={"Accept": "application/json"},
    )
    assert as_json.json() == {"ok": True, "run_id": run_id, "update": "add", "reply": 6}

    rejected = http.post(
        f"/runs/{run_id}/update", data={"csrf_token": token, "name": "add", "payload": '"x"'}
    )
    assert rejected.status_code == 422 and "cannot add" in rejected.text

    page = http.get(f"/runs/{run_id}").text
    assert 'class="run-events"' in page and "total" in page
    assert http.get(f"/api/runs/{run_id}").json()["run_events"] == {"total": 6}


def test_update_action_refuses_bad_input_and_missing_token(
    client: Client, http: TestClient
) -> None:
    run_id = client.start(obs_counter, None)
    token = token_from(http, f"/runs/{run_id}")
    no_token = http.post(f"/runs/{run_id}/update", data={"name": "add", "payload": "1"})
    assert no_token.status_code == 403
    bad_json = http.post(
        f"/runs/{run_id}/update", data={"csrf_token": token, "name": "add", "payload": "{"}
    )
    assert bad_json.status_code == 400
    no_name = http.post(f"/runs/{run_id}/update", data={"csrf_token": token, "payload": "1"})
    assert no_name.status_code == 400
    assert http.get(f"/runs/{run_id}/update").status_code == 405
    assert client.journal.pending_updates(run_id) == []
