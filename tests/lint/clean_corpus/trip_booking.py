"""Book a car, a hotel and a flight; cancel whatever was booked if any step fails."""

from __future__ import annotations

from pydantic import BaseModel

import continuum
from continuum import seconds


class Trip(BaseModel):
    traveller: str
    city: str
    nights: int


class Itinerary(BaseModel):
    car: str
    hotel: str
    flight: str


@continuum.activity(max_attempts=2, timeout=seconds(20))
def book_car(traveller: str, city: str) -> str:
    return f"car-{traveller}"


@continuum.activity(max_attempts=2, timeout=seconds(20))
def book_hotel(traveller: str, city: str, nights: int) -> str:
    return f"hotel-{traveller}-{nights}"


@continuum.activity(max_attempts=2, timeout=seconds(20))
def book_flight(traveller: str, city: str) -> str:
    return f"flight-{traveller}"


@continuum.activity(max_attempts=5)
def cancel_booking(kind: str, traveller: str) -> None:
    return None


@continuum.workflow
def book_trip(trip: Trip) -> Itinerary:
    who = trip.traveller
    try:
        car = continuum.execute(
            book_car, who, trip.city, compensate=continuum.compensation(cancel_booking, "car", who)
        )
        hotel = continuum.execute(
            book_hotel,
            who,
            trip.city,
            trip.nights,
            compensate=continuum.compensation(cancel_booking, "hotel", who),
        )
        flight = continuum.execute(
            book_flight,
            who,
            trip.city,
            compensate=continuum.compensation(cancel_booking, "flight", who),
        )
    except continuum.ActivityFailed:
        continuum.compensate_all(parallel=True)
        raise
    return Itinerary(car=car.result, hotel=hotel.result, flight=flight.result)
