"""The Observer's action guard: every mutating route refuses every forged request, and a
refused request changes nothing (state, mailbox, journal, cancel flag)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from observer_support import mailbox, state_of, token_from
from starlette.testclient import TestClient

import continuum.observer
from continuum.client import Client
from tests.observer_flows import approval

ROUTES = ("cancel", "signal", "update", "fork")
OWN = "http://testserver"
FOREIGN = "https://evil.example"

Case = Callable[[TestClient, str, str], Any]


def _post(http: TestClient, url: str, token: str | None, **headers: str) -> Any:
    data = {"name": "decision", "payload": '"forged"'}
    if token is not None:
        data["csrf_token"] = token
    return http.post(url, data=data, headers=headers, follow_redirects=False)


CASES: dict[str, tuple[int, Case]] = {
    "GET": (405, lambda http, url, token: http.get(url)),
    "HEAD": (405, lambda http, url, token: http.head(url)),
    "PUT": (405, lambda http, url, token: http.put(url, data={"csrf_token": token})),
    "DELETE": (405, lambda http, url, token: http.delete(url)),
    "no token": (403, lambda http, url, token: _post(http, url, None)),
    "empty token": (403, lambda http, url, token: _post(http, url, "")),
    "wrong token": (403, lambda http, url, token: _post(http, url, "0" * 64)),
    "wrong header token": (
        403,
        lambda http, url, token: _post(http, url, None, **{"X-CSRF-Token": token[::-1]}),
    ),
    "foreign Origin": (403, lambda http, url, token: _post(http, url, token, Origin=FOREIGN)),
    "null Origin": (403, lambda http, url, token: _post(http, url, token, Origin="null")),
    "foreign Referer": (
        403,
        lambda http, url, token: _post(http, url, token, Referer=f"{FOREIGN}/page"),
    ),
    "cross-site Sec-Fetch-Site": (
        403,
        lambda http, url, token: _post(http, url, token, **{"Sec-Fetch-Site": "cross-site"}),
    ),
    "same-site Sec-Fetch-Site": (
        403,
        lambda http, url, token: _post(http, url, token, **{"Sec-Fetch-Site": "same-site"}),
    ),
    "token without its cookie": (
        403,
        lambda http, url, token: _post(TestClient(http.app), url, token),
    ),
}


def _snapshot(client: Client, run_id: str) -> tuple[Any, ...]:
    detail = client.journal.run_detail(run_id)
    return (
        state_of(client, run_id),
        tuple(mailbox(client, run_id)),
        detail.last_seq,
        detail.cancel_requested_at,
        len(client.history(run_id)),
        len(client.query(limit=1000).runs),  # a refused fork starts no run
    )


def test_every_forged_request_is_refused_and_changes_nothing(client: Client) -> None:
    run_id = client.start(approval, "ann")
    http = TestClient(continuum.observer.app(client))
    token = token_from(http, f"/runs/{run_id}")
    before = _snapshot(client, run_id)
    checked = 0
    for route in ROUTES:
        url = f"/runs/{run_id}/{route}"
        for name, (status, case) in CASES.items():
            answer = case(http, url, token)
            assert answer.status_code == status, (route, name, answer.status_code, answer.text)
            assert _snapshot(client, run_id) == before, (route, name)
            checked += 1
    assert checked == len(ROUTES) * len(CASES) == 56

    # The same requests with the real token from the Observer's own page do work.
    ok = _post(
        http, f"/runs/{run_id}/signal", token, Origin=OWN, **{"Sec-Fetch-Site": "same-origin"}
    )
    assert ok.status_code == 303
    assert mailbox(client, run_id) == [("decision", "forged")]
    ok = _post(
        http, f"/runs/{run_id}/cancel", None, Referer=f"{OWN}/runs/x", **{"X-CSRF-Token": token}
    )
    assert ok.status_code == 303
    assert state_of(client, run_id) == "cancelled"


def test_a_token_of_another_observer_is_refused(client: Client) -> None:
    run_id = client.start(approval, "ann")
    mine = TestClient(continuum.observer.app(client, secret="a" * 32))
    theirs = TestClient(continuum.observer.app(client, secret="b" * 32))
    their_token = token_from(theirs, "/")
    token_from(mine, "/")  # our cookie, their token
    assert _post(mine, f"/runs/{run_id}/cancel", their_token).status_code == 403
    assert state_of(client, run_id) == "running"


def test_a_shared_secret_works_across_processes(client: Client) -> None:
    run_id = client.start(approval, "ann")
    first = TestClient(continuum.observer.app(client, secret="s" * 32))
    token = token_from(first, "/")
    second = TestClient(continuum.observer.app(client, secret="s" * 32))
    second.cookies = first.cookies
    assert _post(second, f"/runs/{run_id}/cancel", token).status_code == 303


def test_allowed_origins(client: Client) -> None:
    run_id = client.start(approval, "ann")
    http = TestClient(continuum.observer.app(client, allowed_origins=["https://ops.example.com/"]))
    token = token_from(http, "/")
    assert _post(http, f"/runs/{run_id}/cancel", token, Origin=FOREIGN).status_code == 403
    assert state_of(client, run_id) == "running"
    allowed = _post(http, f"/runs/{run_id}/cancel", token, Origin="https://ops.example.com")
    assert allowed.status_code == 303
    assert state_of(client, run_id) == "cancelled"


def test_cookie_is_strict_and_http_only(client: Client) -> None:
    http = TestClient(continuum.observer.app(client))
    cookie = http.get("/").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    # The same browser keeps its nonce: no new cookie on the next page.
    assert "set-cookie" not in http.get("/").headers


def test_get_routes_never_mutate(client: Client) -> None:
    run_id = client.start(approval, "ann")
    http = TestClient(continuum.observer.app(client))
    before = _snapshot(client, run_id)
    for path in (
        "/",
        f"/runs/{run_id}",
        f"/runs/{run_id}/live",
        "/api/runs",
        f"/api/runs/{run_id}",
    ):
        assert http.get(path, params={"name": "decision", "payload": "1"}).status_code == 200
    assert _snapshot(client, run_id) == before
    assert http.post("/api/runs").status_code == 405
    assert http.post(f"/api/runs/{run_id}").status_code == 405
    assert http.post(f"/runs/{run_id}").status_code == 405
    assert http.post(f"/runs/{run_id}/live").status_code == 405
