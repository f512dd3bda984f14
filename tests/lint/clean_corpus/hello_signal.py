"""Collect greetings sent as signals until an "exit" signal arrives."""

from __future__ import annotations

import continuum


@continuum.workflow
def greeting_collector(name: str) -> list[str]:
    greetings: list[str] = []
    while True:
        signal, payload = continuum.wait_signal(["greet", "exit"])
        if signal == "exit":
            return greetings
        greetings.append(f"{payload}, {name}!")
        continuum.set_event("count", len(greetings))
