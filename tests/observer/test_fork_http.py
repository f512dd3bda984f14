"""The Observer's fork button (``POST /runs/{id}/fork``): reruns a failed run from a step
on the current code, CSRF-guarded like every action (the forged-request set is in
test_security.py)."""

from __future__ import annotations

import pytest
from observer_support import token_from
from starlette.testclient import TestClient

import continuum
import continuum.observer
from continuum.client import Client
from continuum.runtime.worker import Worker

CALLS: list[str] = []


@continuum.activity
def fork_step(n: int) -> int:
    CALLS.append(f"step:{n}")
    return n


@continuum.workflow(name="obs.fork.flow")
def fork_flow(fail: bool) -> int:
    first = continuum.execute(fork_step, 1)
    if fail:
        raise RuntimeError("a bug after step 1")
    return first + continuum.execute(fork_step, 2)


@pytest.fixture
def http(client: Client) -> TestClient:
    return TestClient(continuum.observer.app(client))


def test_fork_button_reruns_from_the_chosen_seq(client: Client, http: TestClient) -> None:
    CALLS.clear()
    with Worker(client, workflows=[fork_flow], activities=[fork_step], poll_interval=0.2):
        failed = client.start(fork_flow, True, id="to-fork")
        with pytest.raises(continuum.RunFailed):
            client.result(failed, timeout=30)
        page = http.get(f"/runs/{failed}").text
        assert 'id="fork-form"' in page  # shown for finished runs too
        token = token_from(http, f"/runs/{failed}")
        history = client.history(failed)
        done_step_1 = max(e["seq"] for e in history if e["type"] == "activity_completed")
        answer = http.post(
            f"/runs/{failed}/fork",
            data={"csrf_token": token, "at_seq": str(done_step_1)},
            headers={"Accept": "application/json"},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["forked_from"] == failed and body["at_seq"] == done_step_1
        forked = body["run_id"]
        info = client.get_run(forked)
        assert info.forked_from_run_id == failed and info.forked_at_seq == done_step_1
        assert client.get_run(failed).state.value == "failed"  # the original is untouched


def test_fork_button_redirects_to_the_new_run_and_refuses_bad_input(
    client: Client, http: TestClient
) -> None:
    run_id = client.start(fork_flow, False, id="fork-redirect")
    token = token_from(http, f"/runs/{run_id}")
    sent = http.post(f"/runs/{run_id}/fork", data={"csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303 and "done=forked" in sent.headers["location"]
    assert "fork-redirect" in sent.headers["location"].replace("%2F", "/")
    bad = http.post(f"/runs/{run_id}/fork", data={"csrf_token": token, "at_seq": "x; DROP"})
    assert bad.status_code == 400 and "at_seq must be a positive number" in bad.text
    missing = http.post("/runs/no-such-run/fork", data={"csrf_token": token})
    assert missing.status_code == 404
