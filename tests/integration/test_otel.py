"""The OpenTelemetry bridge: a run whose worker dies mid-activity still yields one
connected trace — the caller's — across both workers and every attempt."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import continuum
import continuum.otel
from continuum.client import Client
from continuum.runtime.worker import Worker

STALL = threading.Event()
RETURNED = threading.Event()
CALLS: list[int] = []


@continuum.activity
def prepare(order: str) -> str:
    return f"prepared {order}"


@continuum.activity(max_attempts=3)
def ship(order: str) -> str:
    CALLS.append(1)
    if len(CALLS) == 1:
        STALL.wait(30)  # the first attempt hangs: its worker will be declared dead
        RETURNED.set()
    return f"shipped {order}"


@continuum.workflow(name="otel.Order")
def order_flow(order: str) -> str:
    first = continuum.execute(prepare, order)
    go = continuum.wait_signal("go")
    return f"{first}, {continuum.execute(ship, order)}, {go}"


def _wait(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def spans() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    bridge = continuum.otel.setup(provider)
    try:
        yield provider, exporter
    finally:
        bridge.close()
        provider.shutdown()


def _named(found: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [s for s in found if s.name == name]


def test_crash_and_resume_stay_in_one_trace(
    pg_dsn: str, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    provider, exporter = spans
    STALL.clear()
    RETURNED.clear()
    CALLS.clear()
    tracer = provider.get_tracer("test")
    with Client(pg_dsn, instance=f"otel-{uuid.uuid4().hex[:8]}") as client:
        # One activity slot: while its attempt hangs, this worker cannot take another.
        first = Worker(
            client,
            workflows=[order_flow],
            activities=[prepare, ship],
            poll_interval=0.2,
            max_activities=1,
        )
        second = Worker(
            client, workflows=[order_flow], activities=[prepare, ship], poll_interval=0.2
        )
        with first:
            with tracer.start_as_current_span("POST /orders") as request:
                run_id = client.start(order_flow, "o-1")
            root = request.get_span_context()
            stored = client.journal.run_detail(run_id).trace_context
            flags = int(root.trace_flags)
            assert stored == f"00-{root.trace_id:032x}-{root.span_id:016x}-{flags:02x}"
            _wait(lambda: client.get_run(run_id).state.value == "suspended")
            client.signal(run_id, "go", "now")
            _wait(lambda: any(t.state == "leased" for t in client.journal.run_detail(run_id).tasks))
            # The worker holding the attempt is declared dead (as after a crash: its
            # leases end and the attempt is counted); another worker takes over.
            client.journal.expire_leases_of([first.id])
            with second:
                assert client.result(run_id, timeout=60) == "prepared o-1, shipped o-1, now"
                # The "dead" worker's attempt returns at last: its write is fenced.
                STALL.set()
                assert RETURNED.wait(10)
                _wait(
                    lambda: any(
                        (s.attributes or {}).get("continuum.outcome") == "fenced"
                        for s in exporter.get_finished_spans()
                    )
                )
    found = list(exporter.get_finished_spans())
    runs = _named(found, continuum.otel.RUN_SPAN)
    acts = _named(found, continuum.otel.ACTIVITY_SPAN)
    # One connected trace: every span is in the caller's trace, parented on its span.
    assert {s.context.trace_id for s in found} == {root.trace_id}
    for span in runs + acts:
        assert span.parent is not None and span.parent.span_id == root.span_id
    # Attempts on both workers, before and after the crash.
    assert {s.attributes["continuum.instance"] for s in runs} == {client.instance_name}
    assert runs[0].attributes["continuum.outcome"] == "suspended"
    assert runs[-1].attributes["continuum.outcome"] == "completed"
    assert all(s.attributes["continuum.run_id"] == run_id for s in runs + acts)
    assert all(s.attributes["continuum.workflow"] == "otel.Order" for s in runs)
    shipped = [s for s in acts if str(s.attributes["continuum.activity"]).endswith("ship")]
    outcomes = {
        (s.attributes["continuum.attempt"], s.attributes["continuum.outcome"]) for s in shipped
    }
    assert outcomes == {(1, "fenced"), (2, "completed")}  # the dead worker's, the survivor's
    assert all(s.end_time is not None and s.start_time <= s.end_time for s in found)
    used = {key for s in runs + acts for key in (s.attributes or {})}
    assert used <= continuum.otel.ATTRIBUTES


def test_runs_started_without_a_span_still_produce_spans(
    pg_dsn: str, spans: tuple[TracerProvider, InMemorySpanExporter]
) -> None:
    _, exporter = spans
    CALLS.clear()
    CALLS.append(1)  # no stall this time
    with (
        Client(pg_dsn, instance=f"otel-{uuid.uuid4().hex[:8]}") as client,
        Worker(client, workflows=[order_flow], activities=[prepare, ship], poll_interval=0.2),
    ):
        run_id = client.start(order_flow, "o-2")
        assert client.journal.run_detail(run_id).trace_context is None
        client.signal(run_id, "go", "!")
        client.result(run_id, timeout=60)
    names = {s.name for s in exporter.get_finished_spans()}
    assert {continuum.otel.RUN_SPAN, continuum.otel.ACTIVITY_SPAN} <= names


def test_core_runs_without_opentelemetry(pg_dsn: str, tmp_path: object) -> None:
    script = textwrap.dedent(
        """
        import sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "opentelemetry" or name.startswith("opentelemetry."):
                    raise ImportError(f"blocked {name}")
                return None

        sys.meta_path.insert(0, Block())
        import continuum
        from continuum.client import Client
        from continuum.errors import ConfigurationError
        from continuum.runtime.worker import Worker

        @continuum.workflow(name="nootel.Hello")
        def hello(name: str) -> str:
            return "hi " + name

        with Client(sys.argv[1]) as client:
            with Worker(client, workflows=[hello], poll_interval=0.2):
                run_id = client.start(hello, "there")
                assert client.result(run_id, timeout=60) == "hi there"
        assert not any(m.startswith("opentelemetry") for m in sys.modules), "otel imported"
        try:
            import continuum.otel
        except ConfigurationError as exc:
            assert "pip install 'continuum[otel]'" in str(exc)
            print("ok without otel")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, pg_dsn], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok without otel"
