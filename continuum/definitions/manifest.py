"""The version manifest, ``<generated>/manifest.json``: the file ``continuum build`` writes
(:mod:`continuum_codegen`) and :class:`~continuum.definitions.versions.VersionRegistry` reads
at worker and client start (so reading it never imports the build tooling).

Shape (keys sorted, two-space indent, trailing newline)::

    {
      "scheme": "continuum-hash-v1",
      "workflows": {
        "<logical name>": {
          "current": "<hash>",
          "versions": {
            "<hash>": {
              "built_at": "2024-05-01T12:00:00Z",
              "entrypoint": "myapp._continuum.V_<hash>",
              "patched": [{"function": "myapp.flows:order_flow", "id": "p", "line": 12}],
              "qualname": "order_flow",
              "source": "myapp/flows.py"
            }
          }
        }
      }
    }

``built_at`` is set once, when a version first appears, so rebuilding unchanged code
writes a byte-identical file.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from continuum.errors import ConfigurationError

MANIFEST_NAME = "manifest.json"
SCHEME = "continuum-hash-v1"
"""The content-hash scheme of the versions a manifest lists (implemented by
:mod:`continuum_codegen.hashing`)."""


class PatchSiteEntry(BaseModel):
    """A ``continuum.patched("id")`` call in a version's code (line in its source file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    line: int
    function: str


class VersionEntry(BaseModel):
    """One frozen version of a workflow."""

    model_config = ConfigDict(extra="forbid")

    entrypoint: str
    qualname: str
    source: str
    built_at: str
    patched: list[PatchSiteEntry] = Field(default_factory=list)


class WorkflowEntry(BaseModel):
    """All known versions of one logical workflow and the one new runs take."""

    model_config = ConfigDict(extra="forbid")

    current: str
    versions: dict[str, VersionEntry] = Field(default_factory=dict)


class Manifest(BaseModel):
    """The whole manifest: hash scheme and workflows by logical name."""

    model_config = ConfigDict(extra="forbid")

    scheme: str = SCHEME
    workflows: dict[str, WorkflowEntry] = Field(default_factory=dict)

    def dumps(self) -> str:
        """Deterministic JSON text: sorted keys, two-space indent, trailing newline."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"

    @classmethod
    def loads(cls, text: str, *, origin: str = MANIFEST_NAME) -> Manifest:
        """Parse manifest text; a broken file is a one-line :class:`ConfigurationError`."""
        try:
            return cls.model_validate_json(text)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigurationError(
                f"{origin}: invalid manifest at {where or '<root>'}: {first['msg']}"
            ) from None

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read ``path``; a missing file is an empty manifest."""
        if not path.exists():
            return cls()
        return cls.loads(path.read_text(encoding="utf-8"), origin=str(path))

    def save(self, path: Path) -> bool:
        """Write to ``path`` unless it already holds the same bytes; True when written."""
        text = self.dumps()
        if path.exists() and path.read_text(encoding="utf-8") == text:
            return False
        path.write_text(text, encoding="utf-8")
        return True
