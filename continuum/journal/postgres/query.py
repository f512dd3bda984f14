"""``query``: filtered, keyset-paginated run listings built with :mod:`psycopg.sql`.

Identifiers come only from the allow-lists below and are composed with
``psycopg.sql.Identifier``; every value is a query parameter. The cursor is opaque
(base64 of a small JSON document) and pins the sort order it was issued for.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import sql

from continuum.errors import ConfigurationError, PayloadError
from continuum.journal.postgres.statements import Cursor, dumps, run_info
from continuum.models import Page
from continuum.payloads import encode
from continuum.validation import text_problem

FILTER_FIELDS = frozenset(
    {
        "id",
        "workflow",
        "version_hash",
        "state",
        "namespace",
        "parent_run_id",
        "correlation_id",
        "continued_from_run_id",
        "continued_to_run_id",
        "started_at",
        "finished_at",
    }
)
ORDER_FIELDS = frozenset({"started_at", "id"})
_TIME_FIELDS = frozenset({"started_at", "finished_at"})
OPS = frozenset({"eq", "ne", "in", "gt", "gte", "lt", "lte"})
_CMP = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
MAX_LIMIT = 1000

Condition = tuple[str, Any, Any]


def _column(field: Any) -> tuple[sql.Composable, bool]:
    """``(expression, is_attribute)`` for a filter field, or ``ConfigurationError``."""
    if isinstance(field, str):
        if field not in FILTER_FIELDS:
            raise ConfigurationError(
                f"cannot filter runs on {field!r}; use one of {', '.join(sorted(FILTER_FIELDS))} "
                'or ("attributes", "<key>")'
            )
        return sql.Identifier(field), False
    if (
        isinstance(field, tuple | list)
        and len(field) == 2
        and field[0] == "attributes"
        and isinstance(field[1], str)
        and field[1]
        and text_problem(field[1]) is None
    ):
        return sql.SQL("attributes -> %s"), True
    raise ConfigurationError(
        f"bad query field {field!r}: expected a column name or ('attributes', '<key>')"
    )


def _time(value: Any, field: Any) -> Any:
    """``value`` checked against ``field``'s column type (datetimes, or text)."""
    if field in _TIME_FIELDS:
        if isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return datetime.fromisoformat(value)
            except ValueError:
                pass
        raise ConfigurationError(
            f"query: {field} needs a datetime (or an ISO 8601 string), got {value!r:.60}"
        )
    if not isinstance(value, str):
        raise ConfigurationError(
            f"query: {field} is text; compare it with a string, got {type(value).__name__} "
            f"{value!r:.60}"
        )
    problem = text_problem(value)
    if problem:
        raise PayloadError(f"query: the value for {field} {problem}")
    return value


def _condition(cond: Any) -> tuple[sql.Composable, list[Any]]:
    if not isinstance(cond, tuple | list) or len(cond) != 3:
        raise ConfigurationError(f"bad query condition {cond!r}: expected (op, field, value)")
    op, field, value = cond
    if not isinstance(op, str) or op not in OPS:
        raise ConfigurationError(
            f"unknown query operator {op!r}; use one of {', '.join(sorted(OPS))}"
        )
    column, is_attr = _column(field)
    if is_attr:
        key = field[1]
        if op == "eq":  # containment uses the GIN index on attributes
            value = encode(value, what=f"query value for attribute {key!r}")
            return sql.SQL("attributes @> %s::jsonb"), [dumps({key: value}, what="query value")]
        if op == "in":
            values = [encode(v, what=f"query value for {key!r}") for v in _values(value, cond)]
            return sql.SQL("{} = ANY(%s::jsonb[])").format(column), [
                key,
                [dumps(v, what="query value") for v in values],
            ]
        cmp = sql.SQL(_CMP[op])
        return sql.SQL("{} {} %s::jsonb").format(column, cmp), [
            key,
            dumps(encode(value, what=f"query value for {key!r}"), what="query value"),
        ]
    if op == "in":
        values = [_time(v, field) for v in _values(value, cond)]
        return sql.SQL("{} = ANY(%s)").format(column), [values]
    return sql.SQL("{} {} %s").format(column, sql.SQL(_CMP[op])), [_time(value, field)]


def _values(value: Any, cond: Any) -> list[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | set | frozenset):
        raise ConfigurationError(f"'in' needs a list of values in {cond!r}")
    return list(value)


def _order(order_by: Sequence[str]) -> tuple[str, str]:
    if (
        not isinstance(order_by, tuple | list)
        or len(order_by) != 2
        or order_by[0] not in ("asc", "desc")
        or order_by[1] not in ORDER_FIELDS
    ):
        raise ConfigurationError(
            f"bad order_by {order_by!r}: expected ('asc' | 'desc', one of "
            f"{', '.join(sorted(ORDER_FIELDS))})"
        )
    return order_by[0], order_by[1]


def encode_cursor(direction: str, field: str, value: Any, run_id: str) -> str:
    """The opaque cursor pointing after ``(value, run_id)`` in this order."""
    raw = {"o": [direction, field], "v": value.isoformat() if field in _TIME_FIELDS else value}
    raw["id"] = run_id
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, direction: str, field: str) -> tuple[Any, str]:
    """``(value, run_id)`` of a cursor issued for the same order, or ``ConfigurationError``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if raw["o"] != [direction, field] or not isinstance(raw["id"], str):
            raise ValueError("order mismatch")
        value = datetime.fromisoformat(raw["v"]) if field in _TIME_FIELDS else raw["v"]
        return value, raw["id"]
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise ConfigurationError(
            f"invalid query cursor ({exc}); pass page.next_cursor from the same query"
        ) from None


def run_query(
    cur: Cursor,
    *,
    namespace: str | None,
    where: Sequence[Condition],
    order_by: Sequence[str],
    limit: int,
    after: str | None,
) -> Page:
    """One page of runs matching every condition in ``where`` (AND)."""
    direction, field = _order(order_by)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ConfigurationError(f"limit must be between 1 and {MAX_LIMIT}, got {limit!r}")
    clauses: list[sql.Composable] = []
    params: list[Any] = []
    if namespace is not None:
        clauses.append(sql.SQL("namespace = %s"))
        params.append(namespace)
    for cond in where:
        clause, values = _condition(cond)
        clauses.append(clause)
        params.extend(values)
    cmp = sql.SQL(">" if direction == "asc" else "<")
    order_col = sql.Identifier(field)
    if after is not None:
        value, last_id = decode_cursor(after, direction, field)
        if field == "id":
            clauses.append(sql.SQL("id {} %s").format(cmp))
            params.append(last_id)
        else:
            clauses.append(sql.SQL("({}, id) {} (%s, %s)").format(order_col, cmp))
            params.extend([value, last_id])
    dir_sql = sql.SQL("ASC" if direction == "asc" else "DESC")
    keys = (
        sql.SQL("id {}").format(dir_sql)
        if field == "id"
        else sql.SQL("{} {}, id {}").format(order_col, dir_sql, dir_sql)
    )
    stmt = sql.SQL("SELECT * FROM continuum_runs{where} ORDER BY {keys} LIMIT %s").format(
        where=sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses) if clauses else sql.SQL(""),
        keys=keys,
    )
    params.append(limit + 1)
    cur.execute(stmt, params)
    rows = cur.fetchall()
    runs = [run_info(r) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_cursor(direction, field, last[field], last["id"])
    return Page(runs=runs, next_cursor=next_cursor)
