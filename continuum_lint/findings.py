"""Finding types: raw findings inside a function, and reported findings in a file."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Hop:
    """One step of a call chain: ``label`` happens at ``path:line:col``."""

    label: str
    path: str
    line: int
    col: int


@dataclass(frozen=True)
class RawFinding:
    """A problem found in one function, with the call chain that reaches it.

    ``hops[-1]`` is the offending expression; earlier hops are the calls from the
    function being reported on down to it.
    """

    code: str
    label: str
    text: str
    hint: str
    hops: tuple[Hop, ...]

    def via(self, hop: Hop) -> RawFinding:
        """The same finding reached through one more call."""
        return RawFinding(self.code, self.label, self.text, self.hint, (hop, *self.hops))


def severity_of(code: str) -> str:
    """``"error"`` for CNT1xx codes, ``"warning"`` for CNT2xx."""
    return "error" if code.startswith("CNT1") else "warning"


def short_path(path: str) -> str:
    """A path relative to the working directory when that is shorter."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if len(rel) < len(path) else path


@dataclass(frozen=True)
class Finding:
    """A finding reported at ``path:line:col`` (``col`` is 0-based, as flake8 expects)."""

    path: str
    line: int
    col: int
    code: str
    message: str
    chain: tuple[str, ...] = ()

    @property
    def severity(self) -> str:
        """``"error"`` or ``"warning"``."""
        return severity_of(self.code)

    def format(self) -> str:
        """``path:line:col: CNTnnn message``, with a 1-based column like flake8 prints."""
        return f"{self.path}:{self.line}:{self.col + 1}: {self.code} {self.message}"

    def as_json(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col + 1,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "chain": list(self.chain),
        }


def report(raw: RawFinding, root: str, root_hop: Hop, path: str) -> Finding:
    """Place ``raw`` (found under the function ``root``) in the file ``path``.

    The finding sits at the deepest hop that is in ``path``, so a same-file helper's
    own line carries it (and its ``# noqa``); a cross-module hop is reported where the
    chain leaves the file.
    """
    anchor = next((h for h in reversed(raw.hops) if h.path == path), raw.hops[0])
    chain: tuple[str, ...] = ()
    message = f"{raw.label} {raw.text}"
    if len(raw.hops) > 1:
        steps = [f"{root} at {short_path(root_hop.path)}:{root_hop.line}"]
        steps += [f"{h.label} at {short_path(h.path)}:{h.line}" for h in raw.hops]
        chain = tuple(steps)
        message += " (" + " → ".join(steps) + ")"
    message += f"; {raw.hint}"
    return Finding(path, anchor.line, anchor.col, raw.code, message, chain)
