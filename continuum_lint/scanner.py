"""The scanner core: parse once, walk each workflow/@pure function once, follow calls.

Files that do not mention ``continuum`` together with ``workflow`` or ``pure`` are
skipped before parsing, so a large tree costs little more than reading it.

Parsing and name resolution: the scanner reads the standard library's ``ast`` and
resolves names with its own resolver (:mod:`continuum_lint.names`), not libcst and its
scope/qualified-name metadata. Measured on ``bench/lint_speed.py``'s corpus, libcst's
parser alone ran at ~10k lines/s and its metadata passes cut the scanner to ~1.5k
lines/s, while ``ast.parse`` runs at ~75k lines/s, and flake8 hands its plugins the
``ast`` tree it already built. The resolver covers what the metadata did (imports and
``as`` aliases, builtins, shadowing by parameters and locals, nested functions and
classes, comprehension scopes, ``global``/``nonlocal``) and what it missed (assignment
aliases, walrus targets in comprehensions bound in the enclosing function, values of
tracked classes, ``getattr`` with a literal, star imports). Scoping is Python's, not
flow-sensitive: a name assigned anywhere in a function is local throughout it (libcst
sent a use that precedes the assignment to the enclosing scope). Columns are reported
in characters, converted from ``ast``'s UTF-8 offsets.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from continuum_lint.config import Config
from continuum_lint.denylist import METHODS, Entry, When
from continuum_lint.findings import Finding, Hop, RawFinding, report
from continuum_lint.locate import locate
from continuum_lint.model import FunctionInfo, ModuleInfo
from continuum_lint.names import BindingKind
from continuum_lint.rules import ALL_RULES
from continuum_lint.rules.base import Context, Rule, Target, TargetKind
from continuum_lint.rules.workflow_only import activity_findings
from continuum_lint.trust import (
    CLIENT_TYPES,
    RULE_OWNED,
    SAFE_METHODS,
    STDLIB_TRUSTED,
    TRUSTED_CLASS_BASES,
    prefix_match,
)
from continuum_lint.walk import arg_count, children

_ALIASES = {"AsyncFunctionDef": "FunctionDef", "AsyncFor": "For", "AsyncWith": "With"}
"""Node types the rules handle under their synchronous spelling."""

_LITERALS = (
    ast.List,
    ast.Dict,
    ast.Set,
    ast.Tuple,
    ast.ListComp,
    ast.DictComp,
    ast.SetComp,
    ast.JoinedStr,
)
"""Values built in place: calling a method on a local holding one is not dynamic dispatch."""
_LITERAL_VALUES = (str, bytes, int, float)


_DEFINES = re.compile(
    r"@\s*[\w.]*\b(?:workflow|pure|activity)\b"  # @continuum.workflow, @workflow(...), @pure
    r"|\b(?:workflow|pure|activity)\s+as\s+\w"  # from continuum import workflow as wf
    r"|=\s*[\w.]*\b(?:workflow|pure|activity)\s*$"  # wf = continuum.workflow
    r"|import\s+\*",
    re.MULTILINE,
)


def might_define_checked_code(source: str) -> bool:
    """The cheap textual pre-check: can this file define a workflow, a @pure helper or an
    activity (whose body CNT116 checks)?

    A substring test first (most files stop here), then one regular expression for a
    decorator or alias; only files that pass are parsed.
    """
    if "continuum" not in source or (
        "workflow" not in source and "pure" not in source and "activity" not in source
    ):
        return False
    return _DEFINES.search(source) is not None


def enough_args(call: ast.Call, entry: Entry) -> bool:
    """For ``When.NO_ARGS`` entries: was the call given the arguments that make it safe?"""
    if entry.category.when is not When.NO_ARGS:
        return False
    return arg_count(call) >= entry.category.min_args


class _Walker:
    """Dispatch every node of one function to the rules that want its type."""

    def __init__(self, ctx: Context, rules: Sequence[Rule], edges: list[tuple[Hop, FunctionInfo]]):
        self.ctx = ctx
        self.rules = rules
        self.edges = edges
        self.table: dict[type[ast.AST], list[object]] = {}

    def _handlers(self, kind: type[ast.AST]) -> list[object]:
        handlers = self.table.get(kind)
        if handlers is None:
            method = f"visit_{_ALIASES.get(kind.__name__, kind.__name__)}"
            handlers = [getattr(r, method) for r in self.rules if hasattr(r, method)]
            self.table[kind] = handlers
        return handlers

    def walk(self, node: ast.AST) -> None:
        """Visit ``node`` and, unless a rule's territory ends there, its children."""
        if self.on_visit(node):
            for child in children(node):
                self.walk(child)
        self.ctx.stack.pop()

    def on_visit(self, node: ast.AST) -> bool:
        self.ctx.stack.append(node)
        descend = True
        if isinstance(node, ast.Call):
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

    def scan_source(self, source: str, path: str, tree: ast.Module | None = None) -> list[Finding]:
        """Findings for one file's text (may raise; see :func:`scan_source`).

        ``tree``, when given, must be ``ast.parse(source)`` (flake8 passes its own).
        """
        if not self.every_function and not might_define_checked_code(source):
            return []
        try:
            info = ModuleInfo.parse(source, path, self.config.denylist, tree)
        except (SyntaxError, ValueError) as exc:
            reason = exc.msg if isinstance(exc, SyntaxError) else str(exc)
            line = getattr(exc, "lineno", None) or 1
            col = max((getattr(exc, "offset", None) or 1) - 1, 0)
            message = f"could not parse {path}: {reason}; fix the syntax error"
            return [Finding(path, line, col, "CNT100", message)]
        self.modules[str(Path(path).resolve())] = info
        found: dict[tuple[int, int, str], Finding] = {}
        roots = list(info.functions.values()) if self.every_function else info.roots()
        for root in roots:
            root_hop = Hop(root.name, path, root.line, 0)
            for raw in self.verdict(root):
                finding = report(raw, root.name, root_hop, path)
                found.setdefault((finding.line, finding.col, finding.code), finding)
        for function in info.functions.values():
            if function.kind == "activity":
                ctx = Context(info, function, self.config, lambda c: self.classify(c, info))
                activity_findings(ctx)
                hop = Hop(function.name, path, function.line, 0)
                for raw in ctx.found:
                    finding = report(raw, function.name, hop, path)
                    found.setdefault((finding.line, finding.col, finding.code), finding)
        return sorted(found.values(), key=lambda f: (f.line, f.col, f.code))

    def _module_at(self, file: Path) -> ModuleInfo | None:
        key = str(file.resolve())
        if key not in self.modules:
            self.modules[key] = None  # guards against import cycles while parsing
            try:
                source = file.read_text(encoding="utf-8")
                self.modules[key] = ModuleInfo.parse(source, str(file), self.config.denylist)
            except (OSError, ValueError, SyntaxError, RecursionError, MemoryError):
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
            walker.walk(node.args)
            for statement in node.body:
                walker.walk(statement)
            results = list(ctx.found)
            for hop, callee in edges:
                results.extend(raw.via(hop) for raw in self.verdict(callee))
            verdict = tuple(results)
        finally:
            self.in_progress.discard(key)
        self.verdicts[key] = verdict
        return verdict

    # -- call classification ------------------------------------------------------

    def classify(self, call: ast.Call, module: ModuleInfo) -> Target:
        """What ``call`` (a node of ``module``) goes to; cached per node."""
        cached = self.targets.get(id(call))
        if cached is not None:
            return cached
        target = self._classify(call, module)
        self.targets[id(call)] = target
        return target

    def _classify(self, call: ast.Call, module: ModuleInfo) -> Target:
        func = call.func
        qname = module.resolve(func)
        if qname is not None:
            return self._classify_name(call, qname, module)
        if isinstance(func, ast.Name):
            return self._classify_local_name(func, module)
        if isinstance(func, ast.Attribute):
            return self._classify_method(call, func, module)
        if isinstance(func, ast.Lambda):
            return Target(TargetKind.LOCAL)
        return Target(TargetKind.DYNAMIC, note="a computed callee")

    def _classify_name(self, call: ast.Call, qname: str, module: ModuleInfo) -> Target:
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
            base = other.reexport(attr)
            if base is not None and (
                base.startswith(".") or not base.startswith(qname.split(".")[0])
            ):
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
        for decorator in node.decorator_list:
            expr = decorator.func if isinstance(decorator, ast.Call) else decorator
            if module.resolve(expr) == "dataclasses.dataclass":
                return True
        if not node.bases:
            return not any(
                isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef) and s.name == "__init__"
                for s in node.body
            )
        for base in node.bases:
            qname = module.resolve(base)
            if qname is None and isinstance(base, ast.Name):
                if not self._trusted_class(module, base.id, depth + 1):
                    return False
            elif qname is None or not (
                qname in TRUSTED_CLASS_BASES
                or prefix_match(qname, ("pydantic", "enum", "continuum"))
                or prefix_match(qname, self.config.trusted_modules)
            ):
                return False
        return True

    def _classify_local_name(self, func: ast.Name, module: ModuleInfo) -> Target:
        binding = module.binding(func)
        if binding == "module-function":
            function = module.functions.get(func.id)
            if function is not None and function.kind != "activity":
                return Target(TargetKind.FOLLOW, func.id, function=function)
            return Target(TargetKind.LOCAL, func.id)
        if binding in ("param", "local"):
            return Target(TargetKind.DYNAMIC, note=f"{func.id} is a runtime value")
        return Target(TargetKind.LOCAL, func.id)

    def _classify_method(self, call: ast.Call, func: ast.Attribute, module: ModuleInfo) -> Target:
        method = func.attr
        entry = METHODS.get(method)
        if entry is not None:
            if enough_args(call, entry):
                return Target(TargetKind.LOCAL)
            return Target(TargetKind.DENIED, method, entry)
        head: ast.expr = func.value
        while isinstance(head, ast.Attribute):
            head = head.value
        if not isinstance(head, ast.Name):
            return Target(TargetKind.LOCAL)
        binding = module.binding(head)
        if head.id in ("self", "cls") or binding not in ("param", "local"):
            return Target(TargetKind.LOCAL)
        if method in SAFE_METHODS or self._built_locally(head, module):
            return Target(TargetKind.LOCAL)
        return Target(TargetKind.DYNAMIC, note=f"{head.id} is a runtime value")

    def _built_locally(self, head: ast.Name, module: ModuleInfo) -> bool:
        """A local variable whose value the scanner already checked (``rng = Random(seed)``)."""
        bindings = module.bindings(head)
        if len(bindings) != 1 or bindings[0].kind is not BindingKind.ASSIGN:
            return False
        value = bindings[0].value
        if isinstance(value, ast.Call):
            return self.classify(value, module).kind is not TargetKind.DYNAMIC
        if isinstance(value, ast.Constant):
            constant = value.value
            return isinstance(constant, _LITERAL_VALUES) and not isinstance(constant, bool)
        return isinstance(value, _LITERALS)


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
