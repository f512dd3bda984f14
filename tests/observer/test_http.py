"""Every Observer route over HTTP (Starlette's TestClient), against a real database."""

from __future__ import annotations

import re
import time

import pytest
from observer_support import mailbox, state_of, token_from, wait_until
from starlette.testclient import TestClient

import continuum.observer
from continuum.client import Client
from continuum.runtime.worker import Worker
from tests.observer_flows import GATE, approval, chatty, exploding, holding, parent


@pytest.fixture
def http(client: Client) -> TestClient:
    return TestClient(continuum.observer.app(client))


def _suspended(client: Client, run_id: str) -> None:
    """Wait until the run waits for its signal (not merely for its first activity)."""
    wait_until(
        lambda: (
            state_of(client, run_id) == "suspended"
            and client.history(run_id)[-1]["type"] == "signal_awaited"
        )
    )


def test_index_lists_filters_and_pages(client: Client, http: TestClient) -> None:
    a = client.start(approval, "ann", attributes={"plan": "pro"})
    b = client.start(approval, "bob", attributes={"plan": "free", "tier": 3})
    c = client.start(exploding, "x", namespace="billing")
    page = http.get("/")
    assert page.status_code == 200
    assert all(run_id in page.text for run_id in (a, b, c))  # every namespace by default

    only_billing = http.get("/", params={"namespace": "billing"}).text
    assert c in only_billing and a not in only_billing
    by_workflow = http.get("/", params={"workflow": "observer.Approval"}).text
    assert a in by_workflow and b in by_workflow and c not in by_workflow
    by_attr = http.get("/", params={"attr.plan": "pro"}).text
    assert a in by_attr and b not in by_attr
    by_number = http.get("/", params={"attr.tier": "3"}).text
    assert b in by_number and a not in by_number
    by_form = http.get("/", params={"attr_key": "plan", "attr_value": "free"}).text
    assert b in by_form and a not in by_form
    by_state = http.get("/", params={"state": "completed"}).text
    assert a not in by_state and "No runs match" in by_state

    first = http.get("/", params={"limit": "2"})
    shown = re.findall(r'data-run-id="([^"]+)"', first.text)
    assert len(shown) == 2
    link = re.search(r'id="next-page" href="([^"]+)"', first.text)
    assert link is not None
    second = http.get(link.group(1).replace("&amp;", "&") + "&limit=2")
    rest = re.findall(r'data-run-id="([^"]+)"', second.text)
    assert set(shown) | set(rest) == {a, b, c} and not set(shown) & set(rest)


def test_index_rejects_bad_filters(http: TestClient) -> None:
    assert http.get("/", params={"state": "sleeping"}).status_code == 400
    assert "unknown state" in http.get("/", params={"state": "sleeping"}).text
    assert http.get("/", params={"after": "not-a-cursor"}).status_code == 400
    assert http.get("/", params={"limit": "0"}).status_code == 400
    assert http.get("/api/runs", params={"limit": "x"}).status_code == 400


def test_api_runs_is_the_query_page(client: Client, http: TestClient) -> None:
    a = client.start(approval, "ann", attributes={"plan": "pro"})
    client.start(approval, "bob")
    body = http.get("/api/runs", params={"attr.plan": "pro"}).json()
    assert [r["id"] for r in body["runs"]] == [a]
    assert body["runs"][0]["attributes"] == {"plan": "pro"}
    assert body["next_cursor"] is None
    paged = http.get("/api/runs", params={"limit": "1"}).json()
    assert len(paged["runs"]) == 1 and paged["next_cursor"]
    after = http.get("/api/runs", params={"limit": "1", "after": paged["next_cursor"]}).json()
    assert after["runs"][0]["id"] != paged["runs"][0]["id"]


def test_run_detail_and_api_twin(client: Client, worker: Worker, http: TestClient) -> None:
    run_id = client.start(approval, "ann")
    _suspended(client, run_id)
    page = http.get(f"/runs/{run_id}")
    assert page.status_code == 200
    text = page.text
    assert 'id="run-state" class="state state-suspended"' in text
    assert "&#34;ann&#34;" in text  # the input
    assert "activity_completed" in text and "signal_awaited" in text
    # The scanner's view: greet and the signal reached, the timer still ahead.
    effects = re.findall(r'<li class="(reached|ahead)" data-line="(\d+)"', text)
    assert [kind for kind, _ in effects] == ["reached", "reached", "ahead"]
    assert "observer_flows.py:" in text

    body = http.get(f"/api/runs/{run_id}").json()
    assert body["run"]["id"] == run_id and body["run"]["state"] == "suspended"
    assert body["input"] == "ann"
    assert body["events"] == client.history(run_id)
    window = http.get(f"/api/runs/{run_id}", params={"after_seq": "2", "limit": "1"}).json()
    assert [e["seq"] for e in window["events"]] == [3]


def test_failed_run_shows_error_and_traceback(
    client: Client, worker: Worker, http: TestClient
) -> None:
    run_id = client.start(exploding, "kaboom")
    wait_until(lambda: state_of(client, run_id) == "failed")
    text = http.get(f"/runs/{run_id}").text
    assert "boom: kaboom" in text
    assert 'class="traceback"' in text and "Traceback (most recent call last)" in text
    assert 'id="actions" class="actions" hidden' in text  # no actions on a finished run


def test_pending_signals_timers_and_tasks_without_a_worker(
    client: Client, http: TestClient
) -> None:
    run_id = client.start(approval, "ann")
    client.signal(run_id, "decision", {"ok": True})
    body = http.get(f"/api/runs/{run_id}").json()
    assert [(s["name"], s["payload"]) for s in body["pending_signals"]] == [
        ("decision", {"ok": True})
    ]
    text = http.get(f"/runs/{run_id}").text
    assert 'class="pending-signals"' in text and "decision" in text


def test_open_activity_task_shows_attempt_and_lease_owner(
    client: Client, worker: Worker, http: TestClient
) -> None:
    GATE.clear()
    try:
        run_id = client.start(holding)
        wait_until(
            lambda: any(t.state == "leased" for t in client.journal.run_detail(run_id).tasks)
        )
        body = http.get(f"/api/runs/{run_id}").json()
        task = body["open_tasks"][0]
        assert task["activity"].endswith("hold") and task["state"] == "leased"
        assert (task["attempt"], task["max_attempts"]) == (1, 3)
        assert task["lease_owner"] == worker.id
        text = http.get(f"/runs/{run_id}").text
        assert 'class="pending-tasks"' in text and worker.id in text and "1 / 3" in text
    finally:
        GATE.set()
    assert client.result(run_id, timeout=30) == "released"


def test_lineage_links_parent_and_children(
    client: Client, worker: Worker, http: TestClient
) -> None:
    run_id = client.start(parent, ["x", "y"], id="parent-1")
    wait_until(lambda: len(client.journal.run_detail(run_id).children) == 2)
    text = http.get(f"/runs/{run_id}").text
    assert 'href="/runs/parent-1%2Fchild-x"' in text and 'href="/runs/parent-1%2Fchild-y"' in text
    child = http.get("/runs/parent-1%2Fchild-x").text
    assert 'href="/runs/parent-1"' in child


def test_live_feed_returns_new_events(client: Client, worker: Worker, http: TestClient) -> None:
    run_id = client.start(approval, "ann")
    _suspended(client, run_id)
    last = client.journal.run_detail(run_id).last_seq
    quiet = http.get(f"/runs/{run_id}/live", params={"after_seq": str(last)}).json()
    assert quiet["rows"] == [] and quiet["state"] == "suspended" and not quiet["terminal"]
    client.signal(run_id, "decision", "yes")
    wait_until(lambda: state_of(client, run_id) == "completed")
    update = http.get(f"/runs/{run_id}/live", params={"after_seq": str(last)}).json()
    assert update["state"] == "completed" and update["terminal"]
    types = [r["type"] for r in update["rows"]]
    assert types[0] == "signal_received" and types[-1] == "run_completed"
    assert update["last_seq"] == update["rows"][-1]["seq"]
    assert "hello ann: yes" in update["outcome_html"]
    assert 'id="event-' in update["rows_html"]


def test_long_history_is_paged(client: Client, worker: Worker, http: TestClient) -> None:
    run_id = client.start(chatty, 450)
    wait_until(lambda: state_of(client, run_id) == "completed", timeout=60)
    total = client.journal.run_detail(run_id).last_seq
    assert total > 450
    text = http.get(f"/runs/{run_id}").text
    seqs = [int(s) for s in re.findall(r'data-seq="(\d+)"', text)]
    assert len(seqs) == 200 and seqs[-1] == total  # the newest window
    older = re.search(r'id="older" href="([^"]+)"', text)
    assert older is not None
    previous = [int(s) for s in re.findall(r'data-seq="(\d+)"', http.get(older.group(1)).text)]
    assert previous == list(range(seqs[0] - 200, seqs[0]))
    newer = http.get(f"/runs/{run_id}", params={"after_seq": "0"}).text
    first = [int(s) for s in re.findall(r'data-seq="(\d+)"', newer)]
    assert first == list(range(1, 201)) and 'id="newer"' in newer


def test_ids_and_filters_postgres_cannot_hold_are_400(client: Client, http: TestClient) -> None:
    assert http.get("/runs/a%00b").status_code == 400
    assert http.get("/api/runs/a%00b").status_code == 400
    assert http.get("/runs/a%00b/live").status_code == 400
    assert http.get("/", params={"workflow": "x\x00y"}).status_code == 400
    assert http.get("/api/runs", params={"attr.k\x00": "v"}).status_code == 400
    token = token_from(http, "/")
    assert http.post("/runs/a%00b/cancel", data={"csrf_token": token}).status_code == 400
    assert (
        http.post("/runs/" + "x" * 5000 + "/cancel", data={"csrf_token": token}).status_code == 400
    )


def test_unknown_run_is_404(http: TestClient) -> None:
    assert http.get("/runs/nope").status_code == 404
    assert http.get("/api/runs/nope").status_code == 404
    assert http.get("/runs/nope/live").status_code == 404
    token = token_from(http, "/")
    assert http.post("/runs/nope/cancel", data={"csrf_token": token}).status_code == 404


def test_cancel_and_signal_actions(client: Client, worker: Worker, http: TestClient) -> None:
    run_id = client.start(approval, "ann")
    _suspended(client, run_id)
    token = token_from(http, f"/runs/{run_id}")
    sent = http.post(
        f"/runs/{run_id}/signal",
        data={"csrf_token": token, "name": "decision", "payload": '"approved"'},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("?done=signalled")
    assert client.result(run_id, timeout=30) == "hello ann: approved"
    assert (
        http.post(
            f"/runs/{run_id}/signal", data={"csrf_token": token, "name": "decision"}
        ).status_code
        == 409
    )  # the run has finished

    other = client.start(approval, "bob")
    _suspended(client, other)
    done = http.post(f"/runs/{other}/cancel", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert state_of(client, other) == "cancelled"
    shown = http.get(done.headers["location"]).text
    assert "Cancel requested." in shown and "state-cancelled" in shown
    # Scripts send the token as a header and may ask for JSON.
    third = client.start(approval, "cy")
    api = http.post(
        f"/runs/{third}/cancel",
        headers={"X-CSRF-Token": token, "Accept": "application/json"},
    )
    assert api.status_code == 200 and api.json()["state"] == "cancelled"


def test_bad_signal_input_changes_nothing(client: Client, http: TestClient) -> None:
    run_id = client.start(approval, "ann")
    token = token_from(http, f"/runs/{run_id}")
    cases = [
        {"csrf_token": token, "name": "decision", "payload": "{not json"},
        {"csrf_token": token, "name": "", "payload": "1"},
        {"csrf_token": token, "payload": "1"},
        {"csrf_token": token, "name": "decision", "payload": "NaN"},
    ]
    for form in cases:
        answer = http.post(f"/runs/{run_id}/signal", data=form)
        assert answer.status_code == 400, (form, answer.text)
    assert mailbox(client, run_id) == []
    assert state_of(client, run_id) == "running"


def test_static_files_and_no_script_needed(http: TestClient) -> None:
    assert http.get("/static/observer.js").status_code == 200
    assert "text/css" in http.get("/static/observer.css").headers["content-type"]
    # The actions are plain HTML forms: they work without JavaScript.
    assert 'method="post"' not in http.get("/").text  # the index has no actions at all


def test_mounted_under_a_prefix(client: Client) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Mount

    host = Starlette(routes=[Mount("/ops/continuum", app=continuum.observer.app(client))])
    run_id = client.start(approval, "ann")
    http = TestClient(host)
    text = http.get("/ops/continuum/").text
    assert f'href="/ops/continuum/runs/{run_id}"' in text
    token = token_from(http, f"/ops/continuum/runs/{run_id}")
    done = http.post(
        f"/ops/continuum/runs/{run_id}/cancel", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/ops/continuum/runs/{run_id}")
    assert state_of(client, run_id) == "cancelled"


def test_app_rejects_bad_arguments(client: Client) -> None:
    with pytest.raises(continuum.ConfigurationError):
        continuum.observer.app("postgresql://x")  # type: ignore[arg-type]
    with pytest.raises(continuum.ConfigurationError):
        continuum.observer.app(client, poll_interval=0)
    with pytest.raises(ValueError):
        continuum.observer.app(client, secret="short")
    assert time.monotonic() > 0
