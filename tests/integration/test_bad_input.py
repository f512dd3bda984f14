"""Bad input never reaches PostgreSQL raw and writes nothing.

Each class of input that used to surface as a raw psycopg error (NUL characters, lone
surrogates, over-long ids, values of the wrong type) or that was silently converted
(bytes, sets, complex numbers, iterators, non-string keys) gets a typed error here,
and a property test throws arbitrary values at the whole client surface.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import continuum
from continuum.client import Client
from continuum.errors import ContinuumError, PayloadError, RunNotFound


@continuum.workflow(name="bad.echo")
def echo(value: Any) -> Any:
    return continuum.wait_signal("go")


@pytest.fixture
def client(pg_dsn: str) -> Iterator[Client]:
    with Client(pg_dsn, instance=f"bad-{uuid.uuid4().hex[:8]}") as c:
        c.start(echo, "seed", id="existing")
        yield c


def _rows(dsn: str) -> tuple[int, ...]:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM continuum_runs), (SELECT count(*) FROM continuum_events),"
            " (SELECT count(*) FROM continuum_signals),"
            " (SELECT count(*) FROM continuum_runs WHERE attributes <> '{}'::jsonb)"
        ).fetchone()
    assert row is not None
    return tuple(int(v) for v in row)


NUL = "a\x00b"
SURROGATE = "a\udc80b"
LONG = "x" * 10_000

CASES: list[tuple[str, Callable[[Client], Any]]] = [
    ("start: NUL in input", lambda c: c.start(echo, {"k": NUL})),
    ("start: surrogate in input", lambda c: c.start(echo, [SURROGATE])),
    ("start: NUL in input key", lambda c: c.start(echo, {NUL: 1})),
    ("start: NUL in id", lambda c: c.start(echo, 1, id=NUL)),
    ("start: surrogate in id", lambda c: c.start(echo, 1, id=SURROGATE)),
    ("start: 10,000-char id", lambda c: c.start(echo, 1, id=LONG)),
    ("start: int id", lambda c: c.start(echo, 1, id=5)),  # type: ignore[arg-type]
    ("start: object namespace", lambda c: c.start(echo, 1, namespace=object())),  # type: ignore[arg-type]
    ("start: NUL namespace", lambda c: c.start(echo, 1, namespace=NUL)),
    ("start: NUL attribute key", lambda c: c.start(echo, 1, attributes={NUL: 1})),
    ("start: NUL attribute value", lambda c: c.start(echo, 1, attributes={"k": NUL})),
    ("start: int attribute key", lambda c: c.start(echo, 1, attributes={1: "a"})),
    ("start: bytes input", lambda c: c.start(echo, b"raw")),
    ("start: set input", lambda c: c.start(echo, {1, 2})),
    ("start: complex input", lambda c: c.start(echo, 1j)),
    ("start: generator input", lambda c: c.start(echo, (i for i in range(3)))),
    ("start: non-string keys", lambda c: c.start(echo, {1: "a"})),
    ("start: infinity", lambda c: c.start(echo, float("inf"))),
    ("signal: int run id", lambda c: c.signal(5, "go", 1)),  # type: ignore[arg-type]
    ("signal: NUL run id", lambda c: c.signal(NUL, "go", 1)),
    ("signal: NUL name", lambda c: c.signal("existing", NUL, 1)),
    ("signal: NUL payload", lambda c: c.signal("existing", "go", NUL)),
    ("signal: surrogate payload", lambda c: c.signal("existing", "go", {"a": SURROGATE})),
    ("signal: bytes payload", lambda c: c.signal("existing", "go", b"x")),
    ("signal: set payload", lambda c: c.signal("existing", "go", {1})),
    ("cancel: NUL run id", lambda c: c.cancel(NUL)),
    ("cancel: long run id", lambda c: c.cancel(LONG)),
    ("get_run: surrogate id", lambda c: c.get_run(SURROGATE)),
    ("history: int id", lambda c: c.history(7)),  # type: ignore[arg-type]
    ("set_attributes: NUL value", lambda c: c.set_attributes("existing", {"k": NUL})),
    ("set_attributes: NUL key", lambda c: c.set_attributes("existing", {NUL: "v"})),
    ("query: int against text", lambda c: c.query(where=[("eq", "id", 5)])),
    ("query: float against time", lambda c: c.query(where=[("eq", "started_at", 1.5)])),
    ("query: NUL in text value", lambda c: c.query(where=[("eq", "workflow", NUL)])),
    ("query: NUL attribute value", lambda c: c.query(where=[("eq", ("attributes", "k"), NUL)])),
    ("query: bytes attribute value", lambda c: c.query(where=[("eq", ("attributes", "k"), b"")])),
    ("query: object namespace", lambda c: c.query(namespace=object())),  # type: ignore[arg-type]
    ("query: in with ints", lambda c: c.query(where=[("in", "state", [1, 2])])),
    ("query: dict operator", lambda c: c.query(where=[({}, "id", "x")])),
]


@pytest.mark.parametrize("call", [c for _, c in CASES], ids=[n for n, _ in CASES])
def test_bad_input_is_a_typed_error_and_writes_nothing(
    client: Client, pg_dsn: str, call: Callable[[Client], Any]
) -> None:
    before = _rows(pg_dsn)
    with pytest.raises(ContinuumError) as err:
        call(client)
    assert not isinstance(err.value, RunNotFound)  # refused before any lookup
    assert not isinstance(err.value.__cause__, psycopg.Error)
    assert _rows(pg_dsn) == before


def test_typed_errors_name_the_operation_and_the_problem(client: Client) -> None:
    with pytest.raises(PayloadError, match=r"Client.signal: the run id must be a string"):
        client.signal(5, "go")  # type: ignore[arg-type]
    with pytest.raises(PayloadError, match=r"NUL character"):
        client.start(echo, {"k": NUL})
    with pytest.raises(PayloadError, match=r"10000 characters long; the limit is 255"):
        client.start(echo, 1, id=LONG)
    with pytest.raises(continuum.ConfigurationError, match=r"started_at needs a datetime"):
        client.query(where=[("eq", "started_at", 1.5)])


def test_good_values_still_work(client: Client) -> None:
    rid = client.start(echo, {"ok": ["ü", "日本", 1.5, None, True]}, id="ünïcode-id ✓")
    client.signal(rid, "go", {"nested": [{"a": "b"}]})
    assert client.get_run(rid).id == "ünïcode-id ✓"
    since = datetime(2020, 1, 1, tzinfo=UTC)
    assert client.query(where=[("gt", "started_at", since)]).runs
    assert client.query(where=[("gt", "started_at", since.isoformat())]).runs


_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.binary(max_size=4)
    | st.complex_numbers()
    | st.sets(st.integers(), max_size=2)
)
_values = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3) | st.integers(), inner, max_size=3)
    ),
    max_leaves=8,
)
_ids = st.text(max_size=300) | st.integers() | st.none() | st.just(LONG)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    op=st.sampled_from(["start", "signal", "set_attributes", "query", "cancel", "get_run"]),
    run_id=_ids,
    name=st.text(max_size=20) | st.integers(),
    value=_values,
)
def test_only_typed_errors_escape_the_client_surface(
    client: Client, pg_dsn: str, op: str, run_id: Any, name: Any, value: Any
) -> None:
    before = _rows(pg_dsn)
    target = "existing" if isinstance(run_id, str) and len(run_id) % 3 == 0 else run_id
    try:
        if op == "start":
            client.start(echo, value, id=f"prop-{uuid.uuid4().hex}", attributes={"v": value})
        elif op == "signal":
            client.signal(target, name, value)
        elif op == "set_attributes":
            client.set_attributes(target, {str(name): value})
        elif op == "query":
            client.query(where=[("eq", ("attributes", str(name)), value), ("eq", "id", target)])
        elif op == "cancel":
            client.cancel(f"missing-{target!s:.50}") if target != "existing" else None
        else:
            client.get_run(target)
    except ContinuumError:
        assert _rows(pg_dsn) == before  # refused: nothing written
    except psycopg.Error as exc:  # the defect this test exists for
        raise AssertionError(f"raw database error escaped {op}: {exc!r}") from exc
