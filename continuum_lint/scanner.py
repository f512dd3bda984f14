"""The scanner core: parse once, walk each workflow/@pure function once, follow calls.

Files that do not mention ``continuum`` together with ``workflow`` or ``pure`` are
skipped before parsing, so a large tree costs little more than reading it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import libcst as cst
from libcst.metadata import Assignment

from continuum_lint.config import Config
from continuum_lint.denylist import METHODS, Entry, When
from continuum_lint.findings import Finding, Hop, RawFinding, report
from continuum_lint.locate import locate
from continuum_lint.model import FunctionInfo, ModuleInfo
from continuum_lint.rules import ALL_RULES
from continuum_lint.rules.base import Context, Rule, Target, TargetKind
from continuum_lint.trust import (
    CLIENT_TYPES,
    RULE_OWNED,
    SAFE_METHODS,
    STDLIB_TRUSTED,
    TRUSTED_CLASS_BASES,
    prefix_match,
)
from continuum_lint.walk import children

_SKIP_CHILDREN = (cst.Import, cst.ImportFrom, cst.Annotation, cst.Decorator)


_DEFINES = re.compile(
    r"@\s*[\w.]*\b(?:workflow|pure)\b"  # @continuum.workflow, @workflow(...), @pure
    r"|\b(?:workflow|pure)\s+as\s+\w"  # from continuum import workflow as wf
    r"|=\s*[\w.]*\b(?:workflow|pure)\s*$"  # wf = continuum.workflow
    r"|import\s+\*",
    re.MULTILINE,
)


def might_define_checked_code(source: str) -> bool:
    """The cheap textual pre-check: can this file define a workflow or @pure helper?

    A substring test first (most files stop here), then one regular expression for a
    decorator or alias; only files that pass are parsed.
    """
    if "continuum" not in source or ("workflow" not in source and "pure" not in source):
        return False
    return _DEFINES.search(source) is not None


def enough_args(call: cst.Call, entry: Entry) -> bool:
    """For ``When.NO_ARGS`` entries: was the call given the arguments that make it safe?"""
    if entry.category.when is not When.NO_ARGS:
        return False
    return len(call.args) >= entry.category.min_args


class _Walker:
    """Dispatch every node of one function to the rules that want its type."""

    def __init__(self, ctx: Context, rules: Sequence[Rule], edges: list[tuple[Hop, FunctionInfo]]):
        self.ctx = ctx
        self.rules = rules
        self.edges = edges
        self.table: dict[type[cst.CSTNode], list[object]] = {}

    def _handlers(self, kind: type[cst.CSTNode]) -> list[object]:
        handlers = self.table.get(kind)
        if handlers is None:
            method = f"visit_{kind.__name__}"
            handlers = [getattr(r, method) for r in self.rules if hasattr(r, method)]
            self.table[kind] = handlers
        return handlers

    def walk(self, node: cst.CSTNode) -> None:
        """Visit ``node`` and, unless a rule's territory ends there, its children."""
        if self.on_visit(node):
            for child in children(node):
                self.walk(child)
        self.ctx.stack.pop()

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.ctx.stack.append(node)
        descend = not isinstance(node, _SKIP_CHILDREN)
        if isinstance(node, cst.Call):
            target = self.ctx.classify(node)
            if target.kind is TargetKind.FOLLOW and target.function is not None:
                line, col = self.ctx.module.position(node)
                hop = Hop(target.function.name, self.ctx.module.path, line, col)
                self.edges.append((hop, target.function))
            # side_effect's callable runs once and is journaled: that is the sanctioned
            # place for a nondeterministic call, so its arguments are not checked.
            descend = target.qname != "continuum.side_effect"
        for handler in self._handlers(type(node)):
            handler(self.ctx, node)  # type: ignore[operator]
        return descend


class Scanner:
    """Scans files under one configuration, caching parsed modules and verdicts."""

    def __init__(self, config: Config | None = None, *, every_function: bool = False) -> None:
        """``every_function=True`` checks every function as if it were a workflow (audits)."""
        self.config = config or Config()
        self.every_function = every_function
        self.modules: dict[str, ModuleInfo | None] = {}
        self.verdicts: dict[tuple[str, str], tuple[RawFinding, ...]] = {}
        self.in_progress: set[tuple[str, str]] = set()
        self.targets: dict[int, Target] = {}

    # -- files ------------------------------------------------------------------

    def scan_source(self, source: str, path: str) -> list[Finding]:
        """Findings for one file's text (may raise; see :func:`scan_source`)."""
        if not self.every_function and not might_define_checked_code(source):
            return []
        try:
            info = ModuleInfo.parse(source, path, self.config.denylist)
        except cst.ParserSyntaxError as exc:
            message = f"could not parse {path}: {exc.message}; fix the syntax error"
            return [Finding(path, exc.raw_line, exc.raw_column, "CNT100", message)]
        self.modules[str(Path(path).resolve())] = info
        found: dict[tuple[int, int, str], Finding] = {}
        roots = list(info.functions.values()) if self.every_function else info.roots()
        for root in roots:
            root_hop = Hop(root.name, path, root.line, 0)
            for raw in self.verdict(root):
                finding = report(raw, root.name, root_hop, path)
                found.setdefault((finding.line, finding.col, finding.code), finding)
        return sorted(found.values(), key=lambda f: (f.line, f.col, f.code))

    def _module_at(self, file: Path) -> ModuleInfo | None:
        key = str(file.resolve())
        if key not in self.modules:
            self.modules[key] = None  # guards against import cycles while parsing
            try:
                source = file.read_text(encoding="utf-8")
                self.modules[key] = ModuleInfo.parse(source, str(file), self.config.denylist)
            except (OSError, UnicodeDecodeError, cst.ParserSyntaxError, RecursionError):
                self.modules[key] = None
        return self.modules[key]

    # -- verdicts -----------------------------------------------------------------

    def verdict(self, function: FunctionInfo) -> tuple[RawFinding, ...]:
        """Every finding in ``function`` and, through their call chains, in its callees."""
        key = (function.module.path, function.name)
        cached = self.verdicts.get(key)
        if cached is not None:
            return cached
        if key in self.in_progress:
            return ()
        self.in_progress.add(key)
        try:
            edges: list[tuple[Hop, FunctionInfo]] = []
            module = function.module
            ctx = Context(module, function, self.config, lambda call: self.classify(call, module))
            rules = [rule_class() for rule_class in ALL_RULES]
            node = function.node
            ctx.stack.append(node)
            for rule in rules:
                start = getattr(rule, "visit_FunctionDef", None)
                if start is not None:
                    start(ctx, node)
            walker = _Walker(ctx, rules, edges)
            walker.walk(node.params)
            walker.walk(node.body)
            results = list(ctx.found)
            for hop, callee in edges:
                results.extend(raw.via(hop) for raw in self.verdict(callee))
            verdict = tuple(results)
        finally:
            self.in_progress.discard(key)
        self.verdicts[key] = verdict
        return verdict

    # -- call classification ------------------------------------------------------

    def classify(self, call: cst.Call, module: ModuleInfo) -> Target:
        """What ``call`` (a node of ``module``) goes to; cached per node."""
        cached = self.targets.get(id(call))
        if cached is not None:
            return cached
        target = self._classify(call, module)
        self.targets[id(call)] = target
        return target

    def _classify(self, call: cst.Call, module: ModuleInfo) -> Target:
        func = call.func
        qname = module.resolve(func)
        if qname is not None:
            return self._classify_name(call, qname, module)
        if isinstance(func, cst.Name):
            return self._classify_local_name(func, module)
        if isinstance(func, cst.Attribute):
            return self._classify_method(call, func, module)
        if isinstance(func, cst.Lambda):
            return Target(TargetKind.LOCAL)
        return Target(TargetKind.DYNAMIC, note="a computed callee")

    def _classify_name(self, call: cst.Call, qname: str, module: ModuleInfo) -> Target:
        entry = self.config.denylist.lookup(qname)
        if entry is not None:
            if enough_args(call, entry):
                return Target(TargetKind.TRUSTED, qname)
            return Target(TargetKind.DENIED, qname, entry)
        if qname.startswith("continuum."):
            if qname.split(".")[1] in CLIENT_TYPES:
                return Target(TargetKind.CLIENT, qname)
            return Target(TargetKind.API, qname)
        if qname.startswith("builtins.") or prefix_match(qname, RULE_OWNED):
            return Target(TargetKind.BUILTIN, qname)
        if prefix_match(qname, self.config.trusted_modules):
            return Target(TargetKind.TRUSTED, qname)
        if prefix_match(qname, STDLIB_TRUSTED):
            return Target(TargetKind.TRUSTED, qname)
        return self._classify_import(qname, module)

    def _classify_import(self, qname: str, module: ModuleInfo) -> Target:
        found = locate(qname, module.path)
        if found is None:
            return Target(TargetKind.UNTRUSTED, qname, note="its source was not found")
        file, attr = found
        other = self._module_at(file)
        if other is None:
            return Target(TargetKind.UNTRUSTED, qname, note="its source could not be parsed")
        function = other.functions.get(attr)
        if function is not None:
            if function.kind == "pure":
                return Target(TargetKind.FOLLOW, qname, function=function)
            return Target(TargetKind.UNTRUSTED, qname)
        if attr in other.classes and self._trusted_class(other, attr, 0):
            return Target(TargetKind.TRUSTED, qname)
        if "." not in attr:
            scope = other.scopes.get(other.module)
            if scope is not None:
                names = [q.name for q in scope.get_qualified_names_for(attr)]
                reexported = [n for n in names if n != attr]
                if reexported:
                    base = reexported[0]
                    if base.startswith(".") or not base.startswith(qname.split(".")[0]):
                        return self._classify_name_in(base, other)
        return Target(TargetKind.UNTRUSTED, qname)

    def _classify_name_in(self, qname: str, module: ModuleInfo) -> Target:
        if prefix_match(qname, self.config.trusted_modules) or prefix_match(qname, STDLIB_TRUSTED):
            return Target(TargetKind.TRUSTED, qname)
        return self._classify_import(qname, module)

    def _trusted_class(self, module: ModuleInfo, name: str, depth: int) -> bool:
        node = module.classes.get(name)
        if node is None or depth > 4:
            return False
        for decorator in node.decorators:
            expr = decorator.decorator
            expr = expr.func if isinstance(expr, cst.Call) else expr
            if module.resolve(expr) == "dataclasses.dataclass":
                return True
        if not node.bases:
            return not any(
                isinstance(s, cst.FunctionDef) and s.name.value == "__init__"
                for s in node.body.body
            )
        for base in node.bases:
            qname = module.resolve(base.value)
            if qname is None and isinstance(base.value, cst.Name):
                if not self._trusted_class(module, base.value.value, depth + 1):
                    return False
            elif qname is None or not (
                qname in TRUSTED_CLASS_BASES
                or prefix_match(qname, ("pydantic", "enum", "continuum"))
                or prefix_match(qname, self.config.trusted_modules)
            ):
                return False
        return True

    def _classify_local_name(self, func: cst.Name, module: ModuleInfo) -> Target:
        binding = module.binding(func)
        if binding == "module-function":
            function = module.functions.get(func.value)
            if function is not None and function.kind != "activity":
                return Target(TargetKind.FOLLOW, func.value, function=function)
            return Target(TargetKind.LOCAL, func.value)
        if binding in ("param", "local"):
            return Target(TargetKind.DYNAMIC, note=f"{func.value} is a runtime value")
        return Target(TargetKind.LOCAL, func.value)

    def _classify_method(self, call: cst.Call, func: cst.Attribute, module: ModuleInfo) -> Target:
        method = func.attr.value
        entry = METHODS.get(method)
        if entry is not None:
            if enough_args(call, entry):
                return Target(TargetKind.LOCAL)
            return Target(TargetKind.DENIED, method, entry)
        head: cst.BaseExpression = func.value
        depth = 0
        while isinstance(head, cst.Attribute):
            head = head.value
            depth += 1
        if not isinstance(head, cst.Name):
            return Target(TargetKind.LOCAL)
        binding = module.binding(head)
        if head.value in ("self", "cls") or binding not in ("param", "local"):
            return Target(TargetKind.LOCAL)
        if method in SAFE_METHODS or self._built_locally(head, module):
            return Target(TargetKind.LOCAL)
        return Target(TargetKind.DYNAMIC, note=f"{head.value} is a runtime value")

    def _built_locally(self, head: cst.Name, module: ModuleInfo) -> bool:
        """A local variable whose value the scanner already checked (``rng = Random(seed)``)."""
        scope = module.scopes.get(head)
        if scope is None:
            return False
        assignments = [a for a in scope[head.value] if isinstance(a, Assignment)]
        if len(assignments) != 1:
            return False
        value = module.values.get(id(assignments[0].node))
        if isinstance(value, cst.Call):
            return self.classify(value, module).kind is not TargetKind.DYNAMIC
        return isinstance(
            value,
            cst.List
            | cst.Dict
            | cst.Set
            | cst.Tuple
            | cst.ListComp
            | cst.DictComp
            | cst.SetComp
            | cst.SimpleString
            | cst.FormattedString
            | cst.Integer
            | cst.Float,
        )


def scan_source(source: str, path: str = "<string>", config: Config | None = None) -> list[Finding]:
    """Scan one file's text and return its findings (never raises).

    A file that cannot be parsed gives one CNT100 finding; an internal scanner error is
    reported the same way rather than as a traceback.
    """
    try:
        return Scanner(config).scan_source(source, path)
    except Exception as exc:  # the scanner must never crash its host (flake8, pre-commit)
        message = f"could not analyse {path}: {type(exc).__name__}: {exc}"
        return [Finding(path, 1, 0, "CNT100", message)]


_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.I)


def suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    """Whether the finding's line carries ``# noqa`` or ``# noqa: <its code>``."""
    if not 0 < finding.line <= len(lines):
        return False
    match = _NOQA.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    if not codes:
        return True
    listed = {c.upper() for c in re.split(r"[,\s]+", codes) if c}
    return finding.code in listed or any(finding.code.startswith(c) for c in listed)


def iter_python_files(paths: Iterable[str]) -> list[Path]:
    """Python files under ``paths`` (files as given; directories recursively)."""
    skip = {".git", ".venv", "venv", "__pycache__", "node_modules", ".tox", "build", "dist"}
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in sorted(path.rglob("*.py")):
                if not skip.intersection(file.relative_to(path).parts[:-1]):
                    files.append(file)
        else:
            files.append(path)
    return files
