"""Parsed modules of the source model: one libcst parse per file, imports resolved.

Nothing is imported or executed: a module name is resolved to its source file with
:class:`importlib.machinery.PathFinder` one package level at a time (``find_spec`` on a
dotted name would import the parent packages). Module-level bindings and the global
reads of a function are computed by :mod:`continuum_lint.source.scopes` rather than
libcst's scope metadata, which costs several times the parse itself.
"""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from importlib.machinery import PathFinder
from pathlib import Path
from typing import TYPE_CHECKING

import libcst as cst
from libcst._nodes.base import CSTNode

if TYPE_CHECKING:
    from libcst.metadata import CodeRange

from continuum_lint.source.errors import ModuleNotFound, SourceError
from continuum_lint.source.scopes import module_bindings

_THIRD_PARTY = frozenset({"site-packages", "dist-packages"})


@dataclass(frozen=True)
class ImportBinding:
    """What a module-level import binds a local name to.

    ``import a.b`` binds ``a`` to ``ImportBinding("a", None)``; ``import a.b as c`` binds
    ``c`` to ``ImportBinding("a.b", None)``; ``from a import b as c`` binds ``c`` to
    ``ImportBinding("a", "b")``. Relative imports are stored already made absolute.
    """

    module: str
    attr: str | None

    @property
    def qualified(self) -> str:
        """The dotted name the local name stands for."""
        return self.module if self.attr is None else f"{self.module}.{self.attr}"


def search_roots(project_root: Path) -> list[Path]:
    """Directories searched for modules: the project (and its ``src/``), then ``sys.path``."""
    roots = [project_root.resolve()]
    if (project_root / "src").is_dir():
        roots.append((project_root / "src").resolve())
    for entry in sys.path:
        path = Path(entry or ".").resolve()
        if path not in roots and path.is_dir():
            roots.append(path)
    return roots


def package_root(directory: Path) -> Path:
    """The directory above the outermost package that contains ``directory``."""
    root = directory
    while (root / "__init__.py").is_file() and root.parent != root:
        root = root.parent
    return root


def module_name_for(path: Path) -> tuple[str, bool]:
    """The dotted module name of a file (from the packages around it), and is_package."""
    path = path.resolve()
    root = package_root(path.parent)
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts) or path.stem, is_package


def locate_module(name: str, roots: Sequence[Path]) -> tuple[Path, bool]:
    """Return ``(source file, is_package)`` for a dotted module name, importing nothing."""
    parts = name.split(".")
    search = [str(root) for root in roots]
    spec = None
    for depth in range(len(parts)):
        fullname = ".".join(parts[: depth + 1])
        try:
            spec = PathFinder.find_spec(fullname, search)
        except (ImportError, KeyError, ValueError, AttributeError) as exc:
            # Namespace packages look their parent up in sys.modules; we import nothing.
            raise ModuleNotFound(f"cannot find module {name!r} ({fullname!r}: {exc!r})") from None
        if spec is None:
            raise ModuleNotFound(f"cannot find module {name!r} (no source for {fullname!r})")
        if depth < len(parts) - 1:
            if spec.submodule_search_locations is None:
                raise ModuleNotFound(f"cannot find module {name!r}: {fullname!r} is not a package")
            search = list(spec.submodule_search_locations)
    assert spec is not None
    origin = spec.origin
    if origin is None or not origin.endswith(".py"):
        raise ModuleNotFound(f"module {name!r} has no Python source file (origin: {origin})")
    return Path(origin), spec.submodule_search_locations is not None


def dotted(expr: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else ``None``."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted(expr.value)
        return None if base is None else f"{base}.{expr.attr.value}"
    return None


def _is_type_checking_block(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.If)
        and dotted(stmt.test) in {"TYPE_CHECKING", "typing.TYPE_CHECKING"}
        and stmt.orelse is None
    )


@dataclass(eq=False)
class ModuleSource:
    """A parsed module and its module-level facts."""

    name: str
    path: Path
    is_package: bool
    module: cst.Module
    imports: dict[str, ImportBinding] = field(default_factory=dict)
    functions: dict[str, cst.FunctionDef] = field(default_factory=dict)
    classes: dict[str, cst.ClassDef] = field(default_factory=dict)
    constants: dict[str, cst.SimpleStatementLine] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    future_imports: list[cst.SimpleStatementLine] = field(default_factory=list)
    import_statements: list[cst.BaseStatement] = field(default_factory=list)
    bindings: dict[str, int] = field(default_factory=dict)
    star_modules: list[str] = field(default_factory=list)

    @cached_property
    def positions(self) -> Mapping[cst.CSTNode, CodeRange]:
        """Source positions of every node (computed on first use: it costs a code pass)."""
        from libcst.metadata import MetadataWrapper, PositionProvider

        return MetadataWrapper(self.module, unsafe_skip_copy=True).resolve(PositionProvider)

    def line_of(self, node: cst.CSTNode) -> int:
        """1-based line where ``node`` starts."""
        return self.positions[node].start.line

    def code_for(self, node: cst.CSTNode) -> str:
        """Source text of ``node`` as it appears in the file."""
        return self.module.code_for_node(node)

    def absolute(self, level: int, module: str | None) -> str:
        """Make a (possibly relative) import target absolute from this module's package."""
        if level == 0:
            return module or ""
        package = self.name if self.is_package else self.name.rpartition(".")[0]
        parts = package.split(".") if package else []
        if level - 1 > len(parts):
            raise SourceError(f"{self.path}: relative import beyond top-level package")
        base = parts[: len(parts) - (level - 1)]
        if module:
            base.append(module)
        return ".".join(base)

    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        """Resolve a Name/Attribute chain through the imports (``wf`` → ``continuum.workflow``)."""
        text = dotted(expr)
        if text is None:
            return None
        head, _, rest = text.partition(".")
        binding = self.imports.get(head)
        if binding is None:
            if head in self.bindings:
                return None
            for module in self.star_modules:
                if module == "continuum":
                    return f"continuum.{text}"
            return None
        return binding.qualified + (f".{rest}" if rest else "")

    def binding_count(self, name: str) -> int:
        """How many times ``name`` is bound at module level."""
        return self.bindings.get(name, 0)


def _import_bindings(
    src: ModuleSource, stmt: cst.Import | cst.ImportFrom
) -> Iterable[tuple[str, ImportBinding]]:
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            target = dotted(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                yield alias.asname.name.value, ImportBinding(target, None)
            else:
                head = target.partition(".")[0]
                yield head, ImportBinding(head, None)
        return
    module = dotted(stmt.module) if stmt.module is not None else None
    base = src.absolute(len(stmt.relative), module)
    if isinstance(stmt.names, cst.ImportStar):
        src.star_modules.append(base)
        return
    for alias in stmt.names:
        attr = dotted(alias.name) or ""
        local = attr
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        yield local, ImportBinding(base, attr)


def _single_target(stmt: cst.SimpleStatementLine) -> str | None:
    if len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Assign) and len(small.targets) == 1:
        target = small.targets[0].target
        return target.value if isinstance(target, cst.Name) else None
    if isinstance(small, cst.AnnAssign) and small.value is not None:
        return small.target.value if isinstance(small.target, cst.Name) else None
    return None


_PARSING = threading.Lock()


def _no_validation(self: CSTNode) -> None:
    return None


def parse_tree(source: str | bytes) -> cst.Module:
    """``libcst.parse_module`` without re-validating the nodes the parser builds.

    Every node's constructor validates its fields (``CSTNode.__post_init__``), which is
    about a third of a parse; nodes built by the parser are valid by construction (a
    note in libcst's own ``__post_init__`` says as much), so the check is switched off
    for the parse only, under a lock.
    """
    with _PARSING:
        validate = CSTNode.__post_init__
        CSTNode.__post_init__ = _no_validation  # type: ignore[method-assign]
        # A parse allocates tens of thousands of acyclic nodes; letting the cyclic
        # collector run meanwhile re-traverses every tree parsed so far (the scanner
        # keeps them), which made parsing the 25th file several times slower than the first.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return cst.parse_module(source)
        finally:
            CSTNode.__post_init__ = validate  # type: ignore[method-assign]
            if collecting:
                gc.enable()


def parse_source(
    name: str, path: Path, is_package: bool, source: str | bytes, *, strict: bool = True
) -> ModuleSource:
    """Parse ``source`` as module ``name`` (at ``path``) and index its module-level names.

    ``strict=False`` (the scanner) skips a relative import that climbs above the top-level
    package instead of raising.
    """
    try:
        tree = parse_tree(source)
    except cst.ParserSyntaxError as exc:
        raise SourceError(
            f"{path}:{exc.raw_line}:{exc.raw_column}: cannot parse: {exc.message}"
        ) from None
    src = ModuleSource(name=name, path=path, is_package=is_package, module=tree)
    for index, stmt in enumerate(tree.body):
        if isinstance(stmt, cst.SimpleStatementLine):
            imports = [s for s in stmt.body if isinstance(s, cst.Import | cst.ImportFrom)]
            for small in imports:
                try:
                    for local, binding in _import_bindings(src, small):
                        src.imports[local] = binding
                except SourceError:
                    if strict:
                        raise
            if imports and all(
                isinstance(s, cst.ImportFrom) and dotted(s.module or cst.Name("_")) == "__future__"
                for s in imports
            ):
                src.future_imports.append(stmt)
            elif imports:
                src.import_statements.append(stmt)
            target = _single_target(stmt)
            if target is not None:
                src.constants[target] = stmt
                src.order.setdefault(target, index)
        elif isinstance(stmt, cst.FunctionDef):
            src.functions[stmt.name.value] = stmt
            src.order.setdefault(stmt.name.value, index)
        elif isinstance(stmt, cst.ClassDef):
            src.classes[stmt.name.value] = stmt
            src.order.setdefault(stmt.name.value, index)
        elif _is_type_checking_block(stmt):
            src.import_statements.append(stmt)
    declares = b"global" in source if isinstance(source, bytes) else "global" in source
    src.bindings = module_bindings(tree, declares)
    # Names bound more than once at module level are not frozen copies: import them.
    for table in (src.functions, src.classes, src.constants):
        for key in [k for k in table if src.binding_count(k) != 1]:
            del table[key]
    return src


def parse_module(name: str, path: Path, is_package: bool) -> ModuleSource:
    """Read and parse ``path`` as module ``name``."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_source(name, path, is_package, data)


def _never_read(name: str, path: Path | None = None) -> bool:
    """Modules whose source the model never reads: continuum, the stdlib, installed ones."""
    top = name.split(".", 1)[0]
    if top == "continuum" or top in sys.stdlib_module_names:
        return True
    return path is not None and bool(_THIRD_PARTY.intersection(path.parts))


class ModuleCache:
    """Parses each module once; resolves dotted names to parsed modules."""

    def __init__(self, roots: Sequence[Path]) -> None:
        """Search ``roots`` (in order) for module sources."""
        self.roots = list(roots)
        # Files may have been written since the finders cached their directory listings.
        PathFinder.invalidate_caches()
        self._parsed: dict[str, ModuleSource | None] = {}
        self._by_path: dict[Path, ModuleSource] = {}

    def get(self, name: str) -> ModuleSource:
        """Parse module ``name``; raises :class:`ModuleNotFound` / :class:`SourceError`."""
        cached = self._parsed.get(name)
        if cached is not None:
            return cached
        path, is_package = locate_module(name, self.roots)
        known = self._by_path.get(path.resolve())
        src = known if known is not None else parse_module(name, path, is_package)
        self._remember(src)
        return src

    def add(self, src: ModuleSource) -> None:
        """Register a module parsed from text (the scanner's current file)."""
        self._remember(src)

    def _remember(self, src: ModuleSource) -> None:
        self._parsed[src.name] = src
        self._by_path[src.path.resolve()] = src

    def find(self, name: str) -> ModuleSource | None:
        """Like :meth:`get` but ``None`` for modules without a readable source (and for
        continuum, the standard library and installed packages, which are never read)."""
        if name in self._parsed:
            return self._parsed[name]
        if _never_read(name):
            return None
        try:
            path, _ = locate_module(name, self.roots)
            if _never_read(name, path):
                self._parsed[name] = None
                return None
            return self.get(name)
        except (ModuleNotFound, SourceError, RecursionError, ValueError):
            self._parsed[name] = None
            return None
