"""Find the source file behind an imported name, for cross-module call following."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

_THIRD_PARTY = frozenset({"site-packages", "dist-packages"})


def _package_root(directory: Path) -> Path:
    """The directory above the outermost package that contains ``directory``."""
    root = directory
    while (root / "__init__.py").is_file() and root.parent != root:
        root = root.parent
    return root


@lru_cache(maxsize=4096)
def _module_file(root: Path, dotted: str) -> Path | None:
    base = root.joinpath(*dotted.split(".")) if dotted else root
    candidate = base.with_suffix(".py") if dotted else base / "__init__.py"
    if dotted and candidate.is_file():
        return candidate
    package = base / "__init__.py"
    if package.is_file():
        return package
    return None


def _roots(from_file: Path) -> list[Path]:
    directory = from_file.parent
    roots = [directory, _package_root(directory), Path.cwd()]
    roots += [Path(p) for p in sys.path if p and "site-packages" not in p]
    seen: list[Path] = []
    for root in roots:
        if root not in seen:
            seen.append(root)
    return seen


def locate(qname: str, from_file: str) -> tuple[Path, str] | None:
    """Split ``qname`` into (module file, attribute path within it), if the file exists.

    ``.helpers.total_of`` is resolved relative to ``from_file``; absolute names are looked
    up next to the file, above its package, in the working directory and on ``sys.path``
    (stdlib and site-packages excluded: those are trusted or denied by name, not read).
    """
    origin = Path(from_file).resolve()
    if qname.startswith("."):
        dots = len(qname) - len(qname.lstrip("."))
        base = origin.parent
        for _ in range(dots - 1):
            base = base.parent
        roots = [base]
        name = qname[dots:]
    else:
        top = qname.split(".", 1)[0]
        if top in sys.stdlib_module_names or top == "continuum":
            return None
        roots = _roots(origin)
        name = qname
    parts = name.split(".")
    for cut in range(len(parts) - 1, -1, -1):
        module, attr = ".".join(parts[:cut]), ".".join(parts[cut:])
        if not attr:
            continue
        for root in roots:
            found = _module_file(root, module)
            if found is None or found.resolve() == origin:
                continue
            if _THIRD_PARTY.intersection(found.parts):
                # Installed packages are trusted or denied by name, never read.
                return None
            return found, attr
    return None
