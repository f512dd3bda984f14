"""Malformed input and SQL injection against the client surface.

    python bench/chaos/input_fuzz.py [--calls 3000] [--seed 1] [--small]

Throws random malformed values (NUL characters, lone surrogates, huge strings, bytes,
sets, complex numbers, generators, wrong types, non-string keys) and classic SQL
injection strings at every client call that takes user input: ids, signal names,
namespaces, attribute keys and values, payloads, query fields and values, cursors. A
canary table must survive, and no raw psycopg error may reach the caller: every refusal
is a typed ContinuumError. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from typing import Any

import psycopg
from common import chaos_database, workload_flow

from continuum.client import Client
from continuum.errors import ContinuumError

INJECTIONS = [
    "'; DROP TABLE chaos_canary; --",
    "x' OR '1'='1",
    "1; DELETE FROM continuum_runs",
    '"; DROP TABLE chaos_canary; --',
    "') ; TRUNCATE chaos_canary; --",
    "$$; DROP TABLE chaos_canary; $$",
    "\\'; DROP TABLE chaos_canary; --",
    "attributes->>'x' = 'y' OR 1=1",
    "started_at; DROP TABLE chaos_canary",
    "%s%s%s%(x)s",
]


def _weird(rng: random.Random) -> Any:
    choices: list[Any] = [
        "a\x00b",
        "\udc80",
        "x" * rng.choice([300, 10_000, 100_000]),
        b"bytes",
        {1, 2},
        1j,
        (i for i in range(2)),
        {1: "int key"},
        {"nested": ["ok", {"deep": "\x00"}]},
        float("nan"),
        float("inf"),
        object(),
        None,
        5,
        -1,
        2**80,
        1.5,
        True,
        [],
        {},
        "",
        rng.choice(INJECTIONS),
    ]
    return rng.choice(choices)


def _key(rng: random.Random) -> Any:
    """A dict key the fuzzer can build (unhashable values cannot be keys at all)."""
    value = _weird(rng)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _call(client: Client, rng: random.Random, flow: Any) -> str:
    op = rng.choice(["start", "signal", "cancel", "get_run", "history", "attrs", "query"])
    v = _weird
    if op == "start":
        kwargs: dict[str, Any] = {}
        if rng.random() < 0.5:
            kwargs["id"] = v(rng)
        if rng.random() < 0.3:
            kwargs["namespace"] = v(rng)
        if rng.random() < 0.3:
            kwargs["attributes"] = {_key(rng): v(rng)} if rng.random() < 0.5 else v(rng)
        client.start(flow, v(rng), **kwargs)
    elif op == "signal":
        client.signal(rng.choice(["known", v(rng)]), v(rng), v(rng))
    elif op == "cancel":
        client.cancel(v(rng))
    elif op == "get_run":
        client.get_run(v(rng))
    elif op == "history":
        client.history(v(rng))
    elif op == "attrs":
        client.set_attributes(rng.choice(["known", v(rng)]), {_key(rng): v(rng)})
    else:
        field = rng.choice(
            ["id", "workflow", "state", "started_at", ("attributes", v(rng)), v(rng)]
        )
        cond = (rng.choice(["eq", "in", "gt", v(rng)]), field, v(rng))
        client.query(
            namespace=rng.choice([None, v(rng)]),
            where=[cond],
            after=rng.choice([None, v(rng)]),
            limit=rng.choice([50, v(rng)]),
        )
    return op


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", default=None)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--small", action="store_true", help="600 calls (CI)")
    args = parser.parse_args()
    if args.small:
        args.calls = 600
    rng = random.Random(args.seed)
    counts = {"accepted": 0, "typed_errors": 0, "raw_database_errors": 0, "other_errors": 0}
    raw: list[str] = []
    other: list[str] = []
    with chaos_database(args.dsn) as dsn:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE chaos_canary (v int); INSERT INTO chaos_canary VALUES (42)")
        flow = workload_flow("chaos.waiter")
        with Client(dsn, instance=f"fuzz-{uuid.uuid4().hex[:6]}") as client:
            client.start(flow, "seed", id="known")
            for _ in range(args.calls):
                try:
                    _call(client, rng, flow)
                    counts["accepted"] += 1
                except ContinuumError:
                    counts["typed_errors"] += 1
                except psycopg.Error as exc:
                    counts["raw_database_errors"] += 1
                    raw.append(f"{type(exc).__name__}: {exc}"[:200])
                except (TypeError, ValueError) as exc:
                    counts["other_errors"] += 1
                    other.append(f"{type(exc).__name__}: {exc}"[:200])
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute("SELECT v FROM chaos_canary").fetchone()
    print(
        json.dumps(
            {
                "bench": "input_fuzz",
                "calls": args.calls,
                "seed": args.seed,
                **counts,
                "injections_executed": 0 if row == (42,) else 1,
                "raw_examples": sorted(set(raw))[:5],
                "other_examples": sorted(set(other))[:5],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
