"""Retry backoff policy for activities."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class Backoff(BaseModel):
    """Exponential backoff between activity attempts: ``initial * factor**(attempt-1)``, capped.

    >>> Backoff(initial=seconds(1), factor=2.0, max=minutes(5)).delay(3)
    datetime.timedelta(seconds=4)
    """

    model_config = ConfigDict(frozen=True)

    initial: timedelta = timedelta(seconds=1)
    factor: float = 2.0
    max: timedelta = timedelta(minutes=5)

    @field_validator("factor")
    @classmethod
    def _factor_at_least_one(cls, v: float) -> float:
        if v < 1.0:
            raise ValueError("backoff factor must be >= 1.0")
        return v

    def delay(self, attempt: int) -> timedelta:
        """The wait before attempt ``attempt + 1``, given that attempt ``attempt`` failed.

        Safe for any attempt number (``max_attempts=None`` may reach thousands): the
        exponent stops growing once the cap is reached.
        """
        initial, cap = self.initial.total_seconds(), self.max.total_seconds()
        exponent = max(attempt - 1, 0)
        if self.factor > 1.0 and initial > 0:
            # Past this exponent the delay is above the cap anyway (and factor**n overflows).
            needed = math.log(max(cap / initial, 1.0)) / math.log(self.factor)
            exponent = min(exponent, math.ceil(needed) + 1)
        raw = initial * (self.factor**exponent)
        return timedelta(seconds=min(raw, cap))

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Backoff:
        """The policy from :meth:`to_json`'s milliseconds form (missing keys: defaults)."""
        return cls(
            initial=timedelta(milliseconds=data.get("initial_ms", 1000)),
            factor=data.get("factor", 2.0),
            max=timedelta(milliseconds=data.get("max_ms", 300_000)),
        )

    def to_json(self) -> dict[str, Any]:
        """Milliseconds form stored with each activity task (database-side arithmetic)."""
        return {
            "initial_ms": int(self.initial.total_seconds() * 1000),
            "factor": self.factor,
            "max_ms": int(self.max.total_seconds() * 1000),
        }
