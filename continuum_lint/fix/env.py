"""What a fix family may ask about the code around the node it rewrites."""

from __future__ import annotations

from typing import Protocol

import libcst as cst


class FixEnv(Protocol):
    """Name resolution and scope questions, answered from the file's own libcst parse."""

    @property
    def api(self) -> str:
        """The name the ``continuum`` package is reachable under here (``continuum``)."""
        ...

    def qualified_name(self, node: cst.CSTNode) -> str | None:
        """The one fully qualified name ``node`` refers to (``datetime.datetime.now``).

        ``None`` when it is a local value, or could be several things.
        """
        ...

    def is_builtin(self, node: cst.CSTNode, name: str) -> bool:
        """Whether ``name`` used where ``node`` is would be the builtin (not shadowed)."""
        ...
