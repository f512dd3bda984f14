"""The Observer in a real Chromium: list → filter → open a run → the timeline updates
live when a signal arrives → cancel with the button → the state changes. A screenshot of
each page is saved (see ``conftest.py`` for where)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from continuum.client import Client
from continuum.runtime.worker import Worker
from tests.observer_flows import approval, exploding, review

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _wait(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def _awaits_signal(client: Client, run_id: str) -> bool:
    history = client.history(run_id)
    return bool(history) and history[-1]["type"] == "signal_awaited"


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _shot(page: Page, folder: Path, name: str) -> Path:
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def test_list_filter_open_live_cancel(
    client: Client, worker: Worker, observer_url: str, browser: Browser, artifacts: Path
) -> None:
    ann = client.start(review, "order-ann", id="order-ann", attributes={"plan": "pro"})
    bob = client.start(review, "order-bob", id="order-bob", attributes={"plan": "free"})
    cid = client.start(approval, "cid", id="greeting-cid", attributes={"plan": "pro"})
    bad = client.start(exploding, "no stock", id="order-broken", attributes={"plan": "pro"})
    _wait(lambda: all(_awaits_signal(client, r) for r in (ann, bob, cid)))
    _wait(lambda: client.get_run(bad).state.value == "failed")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    # 1. The runs index lists every run.
    page.goto(f"{observer_url}/")
    rows = page.locator("tr.run-row")
    assert rows.count() == 4
    _shot(page, artifacts, "observer-runs.png")

    # 2. Filter: suspended runs of the review workflow on the pro plan.
    page.select_option("select[name=state]", "suspended")
    page.fill("input[name=workflow]", "observer.Review")
    page.fill("input[name=attr_key]", "plan")
    page.fill("input[name=attr_value]", "pro")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/?*state=suspended*")
    assert [r.get_attribute("data-run-id") for r in page.locator("tr.run-row").all()] == [ann]
    _shot(page, artifacts, "observer-filtered.png")

    # 3. Open the run.
    page.click(f"tr.run-row[data-run-id='{ann}'] a")
    page.wait_for_selector("#run-state")
    assert page.inner_text("#run-state") == "suspended"
    assert page.locator("tr.event").count() == 4
    assert page.locator(".static-effects li.reached").count() == 2  # greet, decision
    _shot(page, artifacts, "observer-run.png")

    # 4. A signal arrives: the timeline grows without a page reload.
    page.evaluate("window.__notReloaded = true")
    client.signal(ann, "decision", "approved")
    page.wait_for_selector("tr.event:has-text('signal_received')", timeout=20_000)
    page.wait_for_function("document.querySelectorAll('tr.event').length >= 6", timeout=20_000)
    assert page.evaluate("window.__notReloaded === true")
    assert page.locator(".static-effects li.reached").count() == 2  # static view: as loaded
    _shot(page, artifacts, "observer-live.png")

    # 5. Cancel with the button: the state changes.
    page.click("#cancel-button")
    page.wait_for_selector("#run-state.state-cancelled", timeout=20_000)
    assert page.inner_text("#run-state") == "cancelled"
    assert "Cancel requested." in page.inner_text("main")
    assert page.locator("#actions").is_hidden()
    assert client.get_run(ann).state.value == "cancelled"
    assert client.get_run(bob).state.value == "suspended"  # only that run
    _shot(page, artifacts, "observer-cancelled.png")


def test_works_without_javascript(
    client: Client, worker: Worker, observer_url: str, browser: Browser, artifacts: Path
) -> None:
    run_id = client.start(approval, "nojs", id="order-nojs")
    _wait(lambda: _awaits_signal(client, run_id))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{observer_url}/?workflow=observer.Approval")
    page.click(f"tr.run-row[data-run-id='{run_id}'] a")
    page.fill("#signal-form input[name=name]", "decision")
    page.fill("#signal-form input[name=payload]", '"by form"')
    page.click("#signal-button")
    page.wait_for_selector("text=Signal sent.")
    assert client.result(run_id, timeout=30) == "hello nojs: by form"
    page.goto(page.url.split("?")[0])
    assert page.inner_text("#run-state") == "completed"
    _shot(page, artifacts, "observer-nojs.png")
    context.close()
