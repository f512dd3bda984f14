"""CNT216 fixes: iterate a set in sorted order instead of hash-seed order.

- ``for x in s`` / ``[... for x in s]`` → ``for x in sorted(s)``;
- ``list(s)`` → ``sorted(s)`` (already a new list); ``tuple(s)``, ``enumerate(s)``,
  ``iter(s)`` and ``sep.join(s)`` → the same call over ``sorted(s)``.

``s.pop()`` (removes an arbitrary element) has no equivalent and is only reported.
Sorting needs elements that compare with each other (strings, numbers, tuples of them);
for other elements pass a ``key=`` by hand.
"""

from __future__ import annotations

import libcst as cst

from continuum_lint.fix.build import expression, positional_args, without_parentheses
from continuum_lint.fix.env import FixEnv

_WRAPPED = frozenset({"builtins.tuple", "builtins.enumerate", "builtins.iter"})


def sorted_of(
    env: FixEnv, node: cst.BaseExpression, iterable: cst.BaseExpression
) -> cst.Call | None:
    """``sorted(iterable)``, if ``sorted`` is the builtin where ``node`` is."""
    if not env.is_builtin(node, "sorted"):
        return None
    call = expression("sorted(ITERABLE)", ITERABLE=without_parentheses(iterable))
    assert isinstance(call, cst.Call)
    return call


def consumes_a_set(env: FixEnv, call: cst.Call) -> bool:
    """Whether ``call`` is one of the set consumers CNT216 reports as a call."""
    args = positional_args(call)
    if not args:
        return False
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value == "join" and len(args) == 1
    qname = env.qualified_name(func)
    return (qname == "builtins.list" and len(args) == 1) or qname in _WRAPPED


def fix_set_call(env: FixEnv, original: cst.Call, updated: cst.Call) -> cst.BaseExpression | None:
    """The rewrite of a reported ``list(s)``/``tuple(s)``/``sep.join(s)``..., or ``None``."""
    if not consumes_a_set(env, original):
        return None
    if env.qualified_name(original.func) == "builtins.list":
        if not env.is_builtin(original, "sorted"):
            return None
        return updated.with_changes(func=cst.Name("sorted"))
    first = updated.args[0]
    wrapped = sorted_of(env, original, first.value)
    if wrapped is None:
        return None
    return updated.with_changes(args=[first.with_changes(value=wrapped), *updated.args[1:]])


def fix_set_iteration(
    env: FixEnv, original: cst.BaseExpression, updated: cst.BaseExpression
) -> cst.BaseExpression | None:
    """``sorted(...)`` around the iterable of a ``for`` or comprehension, or ``None``."""
    return sorted_of(env, original, updated)
