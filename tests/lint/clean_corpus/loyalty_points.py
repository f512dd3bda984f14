"""Award loyalty points for a purchase, with a bonus tier and an optional manual adjustment."""

from __future__ import annotations

import contextlib

from pydantic import BaseModel

import continuum
from continuum import hours

log = continuum.logger


class Purchase(BaseModel):
    member_id: str
    cents: int
    categories: list[str]


class Member(BaseModel):
    member_id: str
    tier: str
    points: int


class PointsRejected(Exception):
    """The purchase does not earn points."""


@continuum.activity
def load_member(member_id: str) -> Member:
    return Member(member_id=member_id, tier="silver", points=0)


@continuum.activity
def credit_points(member_id: str, points: int) -> Member:
    return Member(member_id=member_id, tier="silver", points=points)


MULTIPLIER = {"bronze": 1, "silver": 2, "gold": 3}
CATEGORY_BONUS = {"books": 50, "travel": 200}


@continuum.workflow
def award_points(purchase: Purchase) -> dict[str, object]:
    if purchase.cents <= 0:
        raise PointsRejected(f"purchase of {purchase.cents!r} cents earns nothing")
    member = continuum.execute(load_member, purchase.member_id)
    bonus = max((CATEGORY_BONUS.get(c, 0) for c in purchase.categories), default=0)
    points = purchase.cents // 100 * MULTIPLIER.get(member.tier, 1) + bonus
    with contextlib.suppress(continuum.SignalTimeout):
        points += int(continuum.wait_signal("adjust", timeout=hours(1)))
    updated = continuum.execute(credit_points, purchase.member_id, points)
    log.info("member %s now has %d points", updated.member_id, updated.points)
    ranked = sorted(purchase.categories, key=lambda c: CATEGORY_BONUS.get(c, 0), reverse=True)
    return {"member": updated.model_dump(), "top_category": ranked[0] if ranked else None}
