"""The smallest workflow: one activity call with retries."""

from __future__ import annotations

import continuum
from continuum import seconds


@continuum.activity(
    max_attempts=4,
    timeout=seconds(5),
    backoff=continuum.Backoff(initial=seconds(1), factor=2.0, max=seconds(20)),
)
def compose_greeting(greeting: str, name: str) -> str:
    return f"{greeting}, {name}!"


@continuum.workflow
def say_hello(name: str) -> str:
    return continuum.execute(compose_greeting, "Hello", name)
