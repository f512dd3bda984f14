"""JSON payloads: encode any value a user hands us, decode journaled JSON to a declared type.

Pydantic does the heavy lifting (models, dataclasses, datetimes, UUIDs, enums). Decoders
are cached per annotation because replay decodes every journaled result again.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Any

import pydantic
from pydantic_core import PydanticSerializationError, to_jsonable_python

from continuum.errors import PayloadError
from continuum.validation import text_problem

JSON = Any
"""A JSON-ready value: dict/list/str/int/float/bool/None."""

_SCALARS = (str, int, float, bool, type(None))
# Values pydantic would quietly turn into something else; a payload must say what it means.
_REFUSED = (bytes, bytearray, memoryview, set, frozenset, complex)


def _plain_problem(value: Any, path: str) -> str | None:
    """Why the plain containers in ``value`` are not JSON as written (models are pydantic's)."""
    if isinstance(value, _REFUSED):
        return f"{path} is a {type(value).__name__}, which JSON has no type for"
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{path} has a non-string key {key!r:.40} (JSON object keys are strings)"
            problem = _plain_problem(item, f"{path}[{key!r:.40}]")
            if problem:
                return problem
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            problem = _plain_problem(item, f"{path}[{i}]")
            if problem:
                return problem
    elif hasattr(value, "__next__") or type(value).__name__ == "generator":
        return f"{path} is an iterator ({type(value).__name__}); pass a list"
    return None


def _stored_problem(data: Any, path: str) -> str | None:
    """Why PostgreSQL's jsonb would refuse ``data`` (NUL, lone surrogates), or ``None``."""
    if isinstance(data, str):
        problem = text_problem(data)
        return f"{path} {problem}" if problem else None
    if isinstance(data, dict):
        for key, item in data.items():
            problem = text_problem(key) and f"{path} has a key that {text_problem(key)}"
            problem = problem or _stored_problem(item, f"{path}[{key!r:.40}]")
            if problem:
                return problem
    elif isinstance(data, list):
        for i, item in enumerate(data):
            problem = _stored_problem(item, f"{path}[{i}]")
            if problem:
                return problem
    return None


def encode(value: Any, *, what: str = "value") -> JSON:
    """Turn ``value`` into JSON-ready data or raise :class:`PayloadError` naming ``what``.

    Refused rather than converted: bytes, sets, complex numbers, iterators and
    non-string dict keys in plain containers; strings PostgreSQL cannot store (NUL
    characters, lone surrogates) anywhere in the result.
    """
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and not math.isfinite(value):  # NaN/inf are not JSON
            raise PayloadError(f"{what} is {value}, which JSON cannot carry")
        if isinstance(value, str) and (problem := text_problem(value)):
            raise PayloadError(f"{what} {problem}")
        return value
    problem = _plain_problem(value, what)
    if problem:
        raise PayloadError(f"{problem}; use JSON values, a pydantic model or a dataclass")
    try:
        data = to_jsonable_python(value)
    except (PydanticSerializationError, TypeError, ValueError) as exc:
        raise PayloadError(
            f"{what} of type {type(value).__name__} is not JSON-serializable ({exc}); "
            "use a pydantic model, a dataclass, or plain JSON values"
        ) from exc
    try:
        json.dumps(data, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise PayloadError(f"{what} does not serialize to JSON: {exc}") from exc
    problem = _stored_problem(data, what)
    if problem:
        raise PayloadError(problem)
    return data


@lru_cache(maxsize=2048)
def _adapter(annotation: Any) -> pydantic.TypeAdapter[Any]:
    return pydantic.TypeAdapter(annotation)


def _is_passthrough(annotation: Any) -> bool:
    return annotation is None or annotation is Any or annotation is object


def decode(data: JSON, annotation: Any, *, what: str = "value") -> Any:
    """Decode journaled JSON ``data`` to ``annotation`` (identity when it is ``Any``/missing)."""
    if _is_passthrough(annotation):
        return data
    if annotation in _SCALARS and type(data) is annotation:
        return data
    try:
        return _adapter(annotation).validate_python(data)
    except TypeError:
        # Unhashable annotations cannot be cached; build an adapter once for this call.
        try:
            return pydantic.TypeAdapter(annotation).validate_python(data)
        except pydantic.ValidationError as exc:
            raise PayloadError(f"{what} does not match {annotation!r}: {exc}") from exc
    except pydantic.ValidationError as exc:
        raise PayloadError(f"{what} does not match {annotation!r}: {exc}") from exc


def dumps(data: JSON) -> str:
    """Compact, stable JSON text (sorted keys) for hashing and storage."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)


def digest(data: JSON) -> str:
    """A short stable hash of JSON data (used to validate child inputs on replay)."""
    import hashlib

    return hashlib.sha256(dumps(data).encode()).hexdigest()[:16]
