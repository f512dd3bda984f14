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
