"""Duration helpers: ``seconds(30)`` reads better than ``timedelta(seconds=30)``."""

from __future__ import annotations

from datetime import timedelta


def seconds(n: float) -> timedelta:
    """``n`` seconds as a :class:`~datetime.timedelta`."""
    return timedelta(seconds=n)


def minutes(n: float) -> timedelta:
    """``n`` minutes as a :class:`~datetime.timedelta`."""
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    """``n`` hours as a :class:`~datetime.timedelta`."""
    return timedelta(hours=n)


def days(n: float) -> timedelta:
    """``n`` days as a :class:`~datetime.timedelta`."""
    return timedelta(days=n)


def to_ms(d: timedelta | float | None) -> int | None:
    """Milliseconds of a duration (a bare number is taken as seconds)."""
    if d is None:
        return None
    if isinstance(d, timedelta):
        return int(d.total_seconds() * 1000)
    return int(float(d) * 1000)


def retention_seconds(retention: timedelta | None, operation: str) -> float | None:
    """A run retention (``days(30)``) as seconds, checked; ``None`` keeps runs forever."""
    from continuum.errors import ConfigurationError

    if retention is None:
        return None
    if not isinstance(retention, timedelta) or retention <= timedelta(0):
        raise ConfigurationError(
            f"{operation}: retention must be a positive datetime.timedelta such as "
            f"continuum.days(30), got {retention!r}"
        )
    return retention.total_seconds()
