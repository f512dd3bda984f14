"""Retry backoff policy for activities."""

from __future__ import annotations

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
        """The wait before attempt ``attempt + 1``, given that attempt ``attempt`` failed."""
        raw = self.initial.total_seconds() * (self.factor ** max(attempt - 1, 0))
        return timedelta(seconds=min(raw, self.max.total_seconds()))

    def to_json(self) -> dict[str, Any]:
        """Milliseconds form stored with each activity task (database-side arithmetic)."""
        return {
            "initial_ms": int(self.initial.total_seconds() * 1000),
            "factor": self.factor,
            "max_ms": int(self.max.total_seconds() * 1000),
        }
