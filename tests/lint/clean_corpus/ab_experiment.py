"""Assign a visitor to an experiment arm with a journaled random draw."""

from __future__ import annotations

import random

from pydantic import BaseModel

import continuum


class Visitor(BaseModel):
    visitor_id: str
    arms: list[str]


@continuum.activity
def record_assignment(visitor_id: str, arm: str) -> None:
    return None


@continuum.workflow
def assign_arm(visitor: Visitor) -> str:
    seed = int(continuum.random() * 2**32)
    arm = random.Random(seed).choice(visitor.arms)
    continuum.execute(record_assignment, visitor.visitor_id, arm)
    return arm
