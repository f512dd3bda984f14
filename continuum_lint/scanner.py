"""The scanner core: one source model per file, each root walked once, calls followed.

Files that do not mention ``continuum`` together with ``workflow``, ``pure`` or
``activity`` are skipped before parsing, so a large tree costs little more than reading
it.

What is checked comes from the source model (:mod:`continuum_lint.source`, on libcst),
the same model ``continuum build`` hashes with: its workflows and ``@pure`` helpers are
the roots, and a call is followed exactly when it goes through one of the calling
function's closure edges (:mod:`continuum_lint.follow`), so the closure checked is the
closure hashed (``tests/lint/test_closure_equality.py``). Before the libcst parse,
module-level definitions no root can reach by name are blanked (line numbers kept).

How each function is checked is the rules' business: they walk the standard library's
``ast`` of the same file (flake8 hands its plugins that tree; ``ast.parse`` is an order
of magnitude faster than libcst's parser) and qualify names with our resolver
(:mod:`continuum_lint.names`: imports and ``as`` aliases, builtins, shadowing by
parameters and locals, nested scopes, comprehension scopes, ``global``/``nonlocal``,
assignment aliases, values of tracked classes, ``getattr`` with a literal, star
imports). Scoping is Python's, not flow-sensitive. Columns are reported in characters,
converted from ``ast``'s UTF-8 offsets.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from continuum_lint.config import Config
from continuum_lint.denylist import METHODS, Entry, When
from continuum_lint.findings import Finding, Hop, RawFinding, report
from continuum_lint.follow import Coverage, EdgeKey, SourceModel, edge_for_call, references
from continuum_lint.locate import locate
from continuum_lint.model import FunctionInfo, ModuleInfo
from continuum_lint.names import BindingKind
from continuum_lint.rules import ALL_RULES
from continuum_lint.rules.base import Context, Rule, Target, TargetKind
from continuum_lint.rules.workflow_only import activity_findings
from continuum_lint.source.closure import Edge, Member
from continuum_lint.source.discover import kind_of, roots_in
from continuum_lint.source.errors import ModelError
from continuum_lint.source.modules import ModuleSource
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
        self.journaled_calls: list[ast.Call] = []
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
            if not descend:
                self.journaled_calls.append(node)
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
        self.model = SourceModel()
        self.coverage = Coverage()
        self.member_of: dict[int, Member] = {}
        self.roots: list[tuple[str, Member]] = []
        """``(path, root member)`` of every workflow/@pure root scanned, in order."""

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
        try:
            pruned = None if self.every_function else info.tree
            src: ModuleSource | None = self.model.parse(info.source, path, pruned)
        except ModelError as exc:
            if not self.every_function:
                message = f"could not build the source model of {path}: {exc}; simplify the file"
                return [Finding(path, 1, 0, "CNT100", message)]
            src = None
        self.modules[str(Path(path).resolve())] = info
        if src is not None:
            _kinds_from(info, src)
        found: dict[tuple[int, int, str], Finding] = {}
        for root in self._roots(info, src):
            root_hop = Hop(root.name, path, root.line, 0)
            for raw in self.verdict(root):
                finding = report(raw, root.name, root_hop, path)
                found.setdefault((finding.line, finding.col, finding.code), finding)
        for function in info.functions.values():
            if function.kind == "activity":
                ctx = Context(info, function, self.config, lambda c: self.classify(c, info, {}))
                activity_findings(ctx)
                hop = Hop(function.name, path, function.line, 0)
                for raw in ctx.found:
                    finding = report(raw, function.name, hop, path)
                    found.setdefault((finding.line, finding.col, finding.code), finding)
        return sorted(found.values(), key=lambda f: (f.line, f.col, f.code))

    def _roots(self, info: ModuleInfo, src: ModuleSource | None) -> list[FunctionInfo]:
        """The functions checked as roots: the model's workflows and @pure helpers (every
        function in audits), each tied to its model member."""
        if self.every_function:
            roots = list(info.functions.values())
            if src is not None:
                for function in roots:
                    member = self.model.member(src, function.name, function.kind)
                    if member is not None:
                        self.member_of[id(function)] = member
            return roots
        assert src is not None
        roots = []
        for node, kind in roots_in(src):
            found = info.functions.get(node.name.value)
            member = self.model.member(src, node.name.value, kind)
            if found is None or member is None:
                continue
            self.member_of[id(found)] = member
            self.roots.append((info.path, member))
            roots.append(found)
        return roots

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
            member = self.member_of.get(id(function))
            model_edges = self.model.edges(member) if member is not None else {}
            ctx = Context(
                module, function, self.config, lambda call: self.classify(call, module, model_edges)
            )
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
            if member is not None:
                edges.extend(self._referenced(function, member, edges, walker.journaled_calls))
            results = list(ctx.found)
            for hop, callee in edges:
                results.extend(raw.via(hop) for raw in self.verdict(callee))
            verdict = tuple(results)
        finally:
            self.in_progress.discard(key)
        self.verdicts[key] = verdict
        return verdict

    def _referenced(
        self,
        function: FunctionInfo,
        member: Member,
        called: list[tuple[Hop, FunctionInfo]],
        journaled_calls: list[ast.Call],
    ) -> list[tuple[Hop, FunctionInfo]]:
        """Closure members ``function`` reaches other than by a call the walk followed:
        passed by name, read through a constant, or only given to ``side_effect``."""
        walked = self.coverage.walked.setdefault(member.key, [])
        journaled = self.coverage.journaled.setdefault(member.key, [])
        followed = {self.member_of[id(f)].key for _, f in called if id(f) in self.member_of}
        walked.extend(k for k in followed if k not in walked)
        extra: list[tuple[Hop, FunctionInfo]] = []
        spans = [_span(call) for call in journaled_calls]
        for edge in self.model.ordered_edges(member):
            if edge.callee.key in followed:
                continue
            refs = references(function.node, edge)
            outside = [r for r in refs if not any(_inside(r, span) for span in spans)]
            if refs and not outside:
                journaled.append(edge.callee.key)
                continue
            line, col = function.module.position(outside[0]) if outside else (function.line, 0)
            for callee in self._code_behind(edge, set()):
                info = self._function_info(callee)
                if info is None:
                    continue
                hop = Hop(callee.qualname, function.module.path, line, col)
                extra.append((hop, info))
                followed.add(callee.key)
                if callee.key not in walked:
                    walked.append(callee.key)
        return extra

    def _code_behind(self, edge: Edge, seen: set[str]) -> list[Member]:
        """The code an edge reaches: its callee, or for a constant the code it refers to."""
        callee = edge.callee
        if callee.is_code:
            return [callee]
        if callee.key in seen:
            return []
        seen.add(callee.key)
        found: list[Member] = []
        for inner in self.model.ordered_edges(callee):
            found.extend(self._code_behind(inner, seen))
        return found

    def _function_info(self, member: Member) -> FunctionInfo | None:
        """The scanner's function for a model member (parsing its file when needed)."""
        module = self.modules.get(str(member.source.path.resolve()))
        if module is None:
            module = self._module_at(member.source.path)
        if module is None:
            return None
        function = module.functions.get(member.qualname)
        if function is not None:
            self.member_of[id(function)] = member
        return function

    # -- call classification ------------------------------------------------------

    def classify(
        self, call: ast.Call, module: ModuleInfo, edges: dict[EdgeKey, Edge] | None = None
    ) -> Target:
        """What ``call`` (a node of ``module``) goes to; cached per node.

        A call that goes through one of the calling function's closure edges in the
        source model is followed; nothing else is.
        """
        cached = self.targets.get(id(call))
        if cached is not None:
            return cached
        target = self._classify(call, module)
        edge = edge_for_call(call, module, edges) if edges else None
        callee = self._function_info(edge.callee) if edge is not None else None
        if callee is not None:
            target = Target(TargetKind.FOLLOW, target.qname or callee.name, function=callee)
        elif target.kind is TargetKind.FOLLOW:
            # Not in the model's closure, so the version hash does not cover it either:
            # a workflow called as a function is checked as a root of its own; anything
            # else (a helper bound twice, a module off the search path) is reported.
            if target.function is not None and target.function.kind == "workflow":
                target = Target(TargetKind.LOCAL, target.qname)
            else:
                note = "it is defined more than once or its source is off the search path, so "
                note += "the version hash does not cover it"
                target = Target(TargetKind.UNTRUSTED, target.qname, note=note)
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
            return self._classify(value, module).kind is not TargetKind.DYNAMIC
        if isinstance(value, ast.Constant):
            constant = value.value
            return isinstance(constant, _LITERAL_VALUES) and not isinstance(constant, bool)
        return isinstance(value, _LITERALS)


def _kinds_from(info: ModuleInfo, src: ModuleSource) -> None:
    """Module-level functions take their kind (workflow, pure, activity) from the model."""
    for name, function in info.functions.items():
        node = src.functions.get(name)
        if node is not None:
            function.kind = kind_of(src, node)


def _span(node: ast.AST) -> tuple[int, int, int, int]:
    return (
        getattr(node, "lineno", 0),
        getattr(node, "col_offset", 0),
        getattr(node, "end_lineno", 0) or 0,
        getattr(node, "end_col_offset", 0) or 0,
    )


def _inside(node: ast.AST, span: tuple[int, int, int, int]) -> bool:
    line, col, _, _ = _span(node)
    return (span[0], span[1]) <= (line, col) < (span[2], span[3])


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
