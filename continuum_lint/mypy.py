"""mypy plugin: workflow payloads are JSON-serializable and child/continue inputs match.

Enable it with ``plugins = ["continuum_lint.mypy"]`` in the mypy configuration. It checks:

- workflow and activity inputs and results, ``wait_signal``/``wait_update`` payloads
  (``type=`` or an annotated assignment target), ``set_event`` values, ``reply`` values
  and ``continue_as_new`` inputs are JSON-serializable:
  pydantic models, dataclasses, enums, ``str``/``int``/``float``/``bool``/``None`` and
  ``list``/``tuple``/``dict[str, ...]`` of those;
- ``continuum.continue_as_new(x)`` matches the enclosing workflow's input type;
- ``continuum.child(flow, x)`` / ``start_child(flow, x)`` match the child's input type.

Everything plain typing can express is left to the library's signatures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from mypy.messages import format_type
from mypy.nodes import CallExpr, Decorator, Expression, FuncDef, RefExpr
from mypy.plugin import FunctionContext, MethodContext, Plugin
from mypy.subtypes import is_subtype
from mypy.types import (
    AnyType,
    CallableType,
    Instance,
    LiteralType,
    NoneType,
    ProperType,
    TupleType,
    Type,
    TypedDictType,
    TypeVarType,
    UninhabitedType,
    UnionType,
    get_proper_type,
)

_SCALARS = frozenset({"builtins.str", "builtins.int", "builtins.float", "builtins.bool"})
_SEQUENCES = frozenset(
    {"builtins.list", "builtins.tuple", "typing.Sequence", "collections.abc.Sequence"}
)
_MAPPINGS = frozenset({"builtins.dict", "typing.Mapping", "collections.abc.Mapping"})
_MODEL_BASES = frozenset({"pydantic.main.BaseModel", "pydantic.BaseModel"})


def _continuum_name(fullname: str, names: frozenset[str]) -> bool:
    return fullname.startswith("continuum.") and fullname.rsplit(".", 1)[-1] in names


def unserializable(typ: Type, depth: int = 0) -> str | None:
    """Why ``typ`` is not JSON-serializable, or ``None`` when it is (or cannot be known)."""
    proper: ProperType = get_proper_type(typ)
    if depth > 12 or isinstance(proper, AnyType | NoneType | TypeVarType | UninhabitedType):
        return None
    if isinstance(proper, LiteralType):
        return None
    if isinstance(proper, UnionType):
        return next((r for t in proper.items if (r := unserializable(t, depth + 1))), None)
    if isinstance(proper, TupleType):
        return next((r for t in proper.items if (r := unserializable(t, depth + 1))), None)
    if isinstance(proper, TypedDictType):
        items = proper.items.values()
        return next((r for t in items if (r := unserializable(t, depth + 1))), None)
    if isinstance(proper, Instance):
        info = proper.type
        if info.fullname in _SCALARS or info.is_enum:
            return None
        if any(base.fullname in _MODEL_BASES for base in info.mro):
            return None
        if "dataclass" in info.metadata:
            return None
        if info.fullname in _SEQUENCES:
            return next((r for t in proper.args if (r := unserializable(t, depth + 1))), None)
        if info.fullname in _MAPPINGS and len(proper.args) == 2:
            key = get_proper_type(proper.args[0])
            str_key = isinstance(key, Instance) and key.type.fullname == "builtins.str"
            if not str_key and not isinstance(key, AnyType):
                return "dict keys must be str"
            return unserializable(proper.args[1], depth + 1)
        return f"{info.name} is not a pydantic model, dataclass or JSON value"
    if isinstance(proper, CallableType):
        return "a callable is not JSON-serializable"
    return None


def _fail_unfiltered(ctx: FunctionContext | MethodContext, message: str) -> None:
    """Report ``message`` even while mypy is trying overloads.

    Definition hooks run inside mypy's overload matching (``workflow`` and ``activity``
    are overloaded), where every error is captured by a watcher and, worse, makes the
    overload count as not matching. Set the watchers aside so the finding is reported
    and the right overload still matches; mypy drops the duplicates.
    """
    errors = ctx.api.msg.errors
    watchers = getattr(errors, "_watchers", None)
    if not watchers:
        ctx.api.fail(message, ctx.context)
        return
    errors._watchers = []
    try:
        ctx.api.fail(message, ctx.context)
    finally:
        errors._watchers = watchers


def _check_payload(ctx: FunctionContext | MethodContext, typ: Type, what: str) -> None:
    reason = unserializable(typ)
    if reason is not None:
        shown = format_type(typ, ctx.api.options)
        _fail_unfiltered(ctx, f"{what} {shown} is not JSON-serializable ({reason})")


def _callable_arg(ctx: FunctionContext | MethodContext) -> CallableType | None:
    if not ctx.arg_types or not ctx.arg_types[0]:
        return None
    typ = get_proper_type(ctx.arg_types[0][0])
    return typ if isinstance(typ, CallableType) else None


def _check_definition(kind: str) -> Callable[[FunctionContext | MethodContext], Type]:
    def hook(ctx: FunctionContext | MethodContext) -> Type:
        fn = _callable_arg(ctx)
        if fn is not None:
            name = fn.name or "function"
            for arg_name, arg_type in zip(fn.arg_names, fn.arg_types, strict=False):
                _check_payload(ctx, arg_type, f"{kind} {name} input {arg_name!r}:")
            _check_payload(ctx, fn.ret_type, f"{kind} {name} result:")
        return ctx.default_return_type

    return hook


def _input_type(flow: Type) -> Type | None:
    proper = get_proper_type(flow)
    if isinstance(proper, Instance) and proper.type.name == "Workflow" and proper.args:
        return proper.args[0]
    if isinstance(proper, CallableType) and proper.arg_types:
        return proper.arg_types[0]
    return None


def _check_child(ctx: FunctionContext) -> Type:
    if len(ctx.arg_types) >= 2 and ctx.arg_types[0] and ctx.arg_types[1]:
        expected = _input_type(ctx.arg_types[0][0])
        actual = ctx.arg_types[1][0]
        if expected is not None and not is_subtype(actual, expected):
            ctx.api.fail(
                f"child workflow input {format_type(actual, ctx.api.options)} does not match "
                f"the child's input type {format_type(expected, ctx.api.options)}",
                ctx.context,
            )
    return ctx.default_return_type


def _is_workflow_decorator(expr: Expression) -> bool:
    target = expr.callee if isinstance(expr, CallExpr) else expr
    return isinstance(target, RefExpr) and _continuum_name(target.fullname, frozenset({"workflow"}))


def _enclosing_workflow(ctx: FunctionContext) -> FuncDef | None:
    api = ctx.api
    scope = getattr(api, "scope", None)
    # The accessor's name differs between mypy releases.
    finder = getattr(scope, "top_level_function", None) or getattr(scope, "top_function", None)
    function = finder() if callable(finder) else None
    tree = getattr(api, "tree", None)
    if not isinstance(function, FuncDef) or tree is None:
        return None
    symbol = tree.names.get(function.name)
    node = symbol.node if symbol is not None else None
    if not isinstance(node, Decorator) or node.func is not function:
        return None
    if any(_is_workflow_decorator(d) for d in node.original_decorators):
        return function
    return None


def _check_continue_as_new(ctx: FunctionContext) -> Type:
    if not ctx.arg_types or not ctx.arg_types[0]:
        return ctx.default_return_type
    actual = ctx.arg_types[0][0]
    _check_payload(ctx, actual, "continue_as_new input")
    workflow = _enclosing_workflow(ctx)
    signature = get_proper_type(workflow.type) if workflow is not None else None
    if workflow is not None and isinstance(signature, CallableType) and signature.arg_types:
        expected = signature.arg_types[0]
        if not is_subtype(actual, expected):
            ctx.api.fail(
                f"continue_as_new input {format_type(actual, ctx.api.options)} does not match "
                f"workflow {workflow.name!r} input type {format_type(expected, ctx.api.options)}",
                ctx.context,
            )
    return ctx.default_return_type


def _check_wait_signal(ctx: FunctionContext) -> Type:
    for name, types in zip(ctx.callee_arg_names, ctx.arg_types, strict=False):
        if name == "type" and types:
            given = get_proper_type(types[0])
            if isinstance(given, CallableType) and given.is_type_obj():
                _check_payload(ctx, given.ret_type, "signal payload type")
    return ctx.default_return_type


def _check_value_arg(what: str) -> Callable[[FunctionContext], Type]:
    """``set_event(key, value)`` / ``reply(upd, value)``: the value must be JSON."""

    def check(ctx: FunctionContext) -> Type:
        if len(ctx.arg_types) > 1 and ctx.arg_types[1]:
            _check_payload(ctx, ctx.arg_types[1][0], what)
        return ctx.default_return_type

    return check


_Ctx = TypeVar("_Ctx", FunctionContext, MethodContext)


def _guarded(hook: Callable[[_Ctx], Type]) -> Callable[[_Ctx], Type]:
    """A checking hook must never crash the user's mypy run: on an unexpected internal
    shape (mypy versions differ), skip the check rather than abort."""

    def run(ctx: _Ctx) -> Type:
        try:
            return hook(ctx)
        except Exception:
            return ctx.default_return_type

    return run


class ContinuumPlugin(Plugin):
    """Hooks on continuum's decorators and workflow-side API (any re-export spelling)."""

    def get_function_hook(self, fullname: str) -> Callable[[FunctionContext], Type] | None:
        if _continuum_name(fullname, frozenset({"workflow"})):
            return _guarded(_check_definition("workflow"))
        if _continuum_name(fullname, frozenset({"activity"})):
            return _guarded(_check_definition("activity"))
        if _continuum_name(fullname, frozenset({"child", "start_child"})):
            return _guarded(_check_child)
        if _continuum_name(fullname, frozenset({"continue_as_new"})):
            return _guarded(_check_continue_as_new)
        if _continuum_name(fullname, frozenset({"wait_signal", "wait_update"})):
            return _guarded(_check_wait_signal)
        if _continuum_name(fullname, frozenset({"set_event"})):
            return _guarded(_check_value_arg("event value"))
        if _continuum_name(fullname, frozenset({"reply"})):
            return _guarded(_check_value_arg("update reply"))
        return None

    def get_method_hook(self, fullname: str) -> Callable[[MethodContext], Type] | None:
        if fullname.startswith("continuum.") and fullname.endswith("Decorator.__call__"):
            if "_Workflow" in fullname:
                return _guarded(_check_definition("workflow"))
            if "_Activity" in fullname:
                return _guarded(_check_definition("activity"))
        return None


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    return ContinuumPlugin
