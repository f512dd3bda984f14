"""JSON payloads: encode any value a user hands us, decode journaled JSON to a declared type.

Pydantic does the heavy lifting (models, dataclasses, datetimes, UUIDs, enums). Decoders
are cached per annotation because replay decodes every journaled result again.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import pydantic
from pydantic_core import PydanticSerializationError, to_jsonable_python

from continuum.errors import PayloadError

JSON = Any
"""A JSON-ready value: dict/list/str/int/float/bool/None."""

_SCALARS = (str, int, float, bool, type(None))


def encode(value: Any, *, what: str = "value") -> JSON:
    """Turn ``value`` into JSON-ready data or raise :class:`PayloadError` naming ``what``."""
    if isinstance(value, _SCALARS):
        if isinstance(value, float) and value != value:  # NaN is not JSON
            raise PayloadError(f"{what} is NaN, which JSON cannot carry")
        return value
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
