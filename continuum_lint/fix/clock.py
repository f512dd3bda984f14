"""CNT101 fixes: wall-clock reads and ``time.sleep`` → the journaled ``continuum`` forms.

Each rewrite gives the same type of value the original call gave:

- ``datetime.now(tz)`` → ``continuum.now().astimezone(tz)`` (``continuum.now()`` itself
  when ``tz`` is ``timezone.utc`` / ``datetime.UTC``);
- ``datetime.utcnow()`` → ``continuum.now().replace(tzinfo=None)`` (naive UTC);
- ``datetime.now()`` / ``datetime.today()`` (naive host-local time) →
  ``continuum.now().replace(tzinfo=None)``: naive, in UTC. Host-local time has no
  deterministic equivalent (workers may sit in different zones); on a UTC host the
  value is the same;
- ``date.today()`` → ``continuum.today()`` (the UTC date);
- ``time.time()`` → ``continuum.now().timestamp()``;
- ``time.sleep(x)`` → ``continuum.sleep(continuum.seconds(x))``, a durable timer.

Monotonic and CPU clocks (``time.monotonic()``, ``perf_counter()``) measure durations on
one host and have no journaled equivalent; they are reported, not rewritten.
"""

from __future__ import annotations

import libcst as cst

from continuum_lint.fix.build import expression, positional_args
from continuum_lint.fix.env import FixEnv

_UTC = frozenset({"datetime.timezone.utc", "datetime.UTC"})
_NAIVE_NOW = frozenset({"datetime.datetime.utcnow", "datetime.datetime.today"})


def _now_in(env: FixEnv, original: cst.Call, updated: cst.Call) -> cst.BaseExpression | None:
    """``datetime.now(tz)`` with one argument, positional or ``tz=``."""
    (arg,) = original.args
    if arg.star or (arg.keyword is not None and arg.keyword.value != "tz"):
        return None
    value = arg.value
    if isinstance(value, cst.Name) and value.value == "None":
        return None  # host-local time, aware: no deterministic equivalent
    if env.qualified_name(value) in _UTC:
        return expression(f"{env.api}.now()")
    # astimezone's parameter is also called ``tz``, so the arguments carry over as written.
    return updated.with_changes(func=expression(f"{env.api}.now().astimezone"))


def fix_clock_call(
    env: FixEnv, qname: str, original: cst.Call, updated: cst.Call
) -> cst.BaseExpression | None:
    """The rewrite of the CNT101 call ``original`` to ``qname``, or ``None``."""
    api = env.api
    if qname == "datetime.datetime.now" and len(updated.args) == 1:
        return _now_in(env, original, updated)
    if updated.args and qname != "time.sleep":
        return None
    if qname == "datetime.datetime.now" or qname in _NAIVE_NOW:
        return expression(f"{api}.now().replace(tzinfo=None)")
    if qname == "datetime.date.today":
        return expression(f"{api}.today()")
    if qname == "time.time":
        return expression(f"{api}.now().timestamp()")
    if qname == "time.sleep":
        args = positional_args(updated)
        if args is None or len(args) != 1:
            return None
        seconds = updated.with_changes(func=expression(f"{api}.seconds"))
        return expression(f"{api}.sleep(DURATION)", DURATION=seconds)
    return None
