"""CNT102 and CNT103 fixes: ``random.random()`` and ``uuid.uuid4()`` → journaled values.

Only the calls with an exact equivalent are rewritten: ``continuum.random()`` returns a
float in [0, 1) like ``random.random()``, ``continuum.uuid4()`` a random ``uuid.UUID``.
Other random functions (``choice``, ``randint``, ...) need a seeded ``random.Random``,
which is a choice for the author (the hint says how); ``uuid1`` embeds the host.
"""

from __future__ import annotations

import libcst as cst

from continuum_lint.fix.build import expression
from continuum_lint.fix.env import FixEnv

_REPLACEMENTS = {"random.random": "random", "uuid.uuid4": "uuid4"}


def fix_value_call(
    env: FixEnv, qname: str, original: cst.Call, updated: cst.Call
) -> cst.BaseExpression | None:
    """The rewrite of the CNT102/CNT103 call ``original`` to ``qname``, or ``None``."""
    name = _REPLACEMENTS.get(qname)
    if name is None or updated.args:
        return None
    return expression(f"{env.api}.{name}()")
