"""``@continuum.activity``: functions that touch the world, run by activity workers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any, Generic, ParamSpec, TypeVar, get_type_hints, overload

from continuum import payloads
from continuum.current_run import in_workflow
from continuum.definitions.backoff import Backoff
from continuum.definitions.registry import REGISTRY
from continuum.errors import DefinitionError, WorkflowContextError

P = ParamSpec("P")
R = TypeVar("R")


def check_max_attempts(max_attempts: object, where: str) -> None:
    """``max_attempts`` is a positive int, or ``None`` (retry without limit)."""
    if max_attempts is None:
        return
    if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
        raise DefinitionError(
            f"{where}: max_attempts must be an int >= 1 or None (unlimited), got {max_attempts!r}"
        )


class Activity(Generic[P, R]):
    """A registered activity. Call it through ``continuum.execute(act, ...)`` in workflows.

    Calling the object directly runs the function in place; that is what you want in a
    unit test of the activity itself, and an error inside a workflow (it would run on
    every replay).
    """

    def __init__(
        self,
        fn: Callable[P, R] | Callable[P, Awaitable[R]],
        *,
        name: str | None = None,
        max_attempts: int | None = 1,
        timeout: timedelta | None = None,
        backoff: Backoff | None = None,
        local: bool = False,
        non_retryable: tuple[type[BaseException], ...] = (),
        heartbeat_timeout: timedelta | None = None,
    ) -> None:
        check_max_attempts(max_attempts, f"activity {fn!r}")
        if timeout is not None and timeout.total_seconds() <= 0:
            raise DefinitionError(f"activity {fn!r}: timeout must be positive")
        if heartbeat_timeout is not None and (
            not isinstance(heartbeat_timeout, timedelta) or heartbeat_timeout.total_seconds() <= 0
        ):
            raise DefinitionError(
                f"activity {fn!r}: heartbeat_timeout must be a positive timedelta "
                f"(e.g. continuum.seconds(30)), got {heartbeat_timeout!r}"
            )
        if heartbeat_timeout is not None and local:
            raise DefinitionError(
                f"activity {fn!r}: heartbeat_timeout applies to activity tasks; a local=True "
                "activity runs inside its workflow's activation (use timeout= instead)"
            )
        if isinstance(non_retryable, type):
            non_retryable = (non_retryable,)
        if not isinstance(non_retryable, tuple) or not all(
            isinstance(t, type) and issubclass(t, BaseException) for t in non_retryable
        ):
            raise DefinitionError(
                f"activity {fn!r}: non_retryable must be a tuple of exception classes, "
                f"got {non_retryable!r}"
            )
        self.fn = fn
        self.name = name or f"{fn.__module__}:{fn.__qualname__}"
        self.max_attempts = max_attempts
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.local = local
        self.non_retryable = non_retryable
        self.heartbeat_timeout = heartbeat_timeout
        self.is_async = inspect.iscoroutinefunction(fn)
        self.key_fn: Callable[..., str] | None = None
        self._hints: dict[str, Any] | None = None
        # Every replay binds the arguments again: inspect the function once.
        self._signature = inspect.signature(fn)
        self._params: list[tuple[str, Any, inspect.Parameter]] | None = None
        self._plan: tuple[list[Any], dict[str, Any]] | None = None
        # Plain positional parameters with no defaults: a call with exactly that many
        # positional arguments binds to itself, without inspect's general binder.
        plain = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        params = self._signature.parameters.values()
        self._arity: int | None = (
            len(params)
            if all(p.kind in plain and p.default is inspect.Parameter.empty for p in params)
            else None
        )
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    # -- type information, resolved lazily (forward references need the module loaded)
    def _type_hints(self) -> dict[str, Any]:
        if self._hints is None:
            try:
                self._hints = get_type_hints(self.fn)
            except Exception:  # unresolvable forward refs: fall back to raw JSON
                self._hints = {}
        return self._hints

    @property
    def result_type(self) -> Any:
        """The declared return annotation (``Any`` when missing)."""
        return self._type_hints().get("return", Any)

    def param_types(self) -> list[tuple[str, Any, inspect.Parameter]]:
        """Parameters with their annotations, in order."""
        if self._params is None:
            hints = self._type_hints()
            self._params = [
                (p.name, hints.get(p.name, Any), p) for p in self._signature.parameters.values()
            ]
        return self._params

    def _decode_plan(self) -> tuple[list[Any], dict[str, Any]]:
        """The annotation of each positional slot (``Any`` for ``*args``) and by name."""
        if self._plan is None:
            params = self.param_types()
            positional = [
                Any if p.kind is inspect.Parameter.VAR_POSITIONAL else ann for _, ann, p in params
            ]
            self._plan = positional, {name: ann for name, ann, _ in params}
        return self._plan

    def encode_args(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """Bind and JSON-encode call arguments, failing at the call site on bad values."""
        if not kwargs and len(args) == self._arity:
            positional, named = args, kwargs
        else:
            try:
                bound = self._signature.bind(*args, **kwargs)
            except TypeError as exc:
                raise DefinitionError(f"bad arguments for activity {self.name}: {exc}") from exc
            positional, named = bound.args, bound.kwargs
        return {
            "args": [
                payloads.encode(v, what=f"argument {i} of activity {self.name}")
                for i, v in enumerate(positional)
            ],
            "kwargs": {
                k: payloads.encode(v, what=f"argument {k!r} of activity {self.name}")
                for k, v in named.items()
            },
        }

    def decode_args(self, data: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Decode JSON arguments back to the parameter annotations (worker side)."""
        positional, by_name = self._decode_plan()
        args: list[Any] = []
        for i, value in enumerate(data.get("args", [])):
            ann = positional[i] if i < len(positional) else Any
            args.append(payloads.decode(value, ann, what=f"argument {i} of {self.name}"))
        kwargs = {
            k: payloads.decode(v, by_name.get(k, Any), what=f"argument {k!r} of {self.name}")
            for k, v in data.get("kwargs", {}).items()
        }
        return args, kwargs

    def decode_result(self, data: Any) -> R:
        """Decode a journaled result to the declared return type."""
        decoded: R = payloads.decode(data, self.result_type, what=f"result of {self.name}")
        return decoded

    def idempotency_key(self, fn: Callable[P, str]) -> Callable[P, str]:
        """Decorator: derive the idempotency key from the activity's arguments."""
        self.key_fn = fn
        return fn

    def key_for(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
        """The idempotency key for this call, if the activity declares one."""
        if self.key_fn is None:
            return None
        return str(self.key_fn(*args, **kwargs))

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        if in_workflow():
            raise WorkflowContextError(
                f"activity {self.name} was called directly inside a workflow; "
                f"use continuum.execute({self.fn.__name__}, ...) so it is journaled"
            )
        result = self.fn(*args, **kwargs)
        if inspect.isawaitable(result):
            raise WorkflowContextError(
                f"activity {self.name} is async; await {self.fn.__name__}.fn(...) instead"
            )
        return result

    def is_non_retryable(self, exc: BaseException) -> bool:
        """Whether ``exc`` fails the activity at once, whatever attempts remain."""
        return bool(self.non_retryable) and isinstance(exc, self.non_retryable)

    def __repr__(self) -> str:
        return f"<Activity {self.name}>"


@overload
def activity(fn: Callable[P, Coroutine[Any, Any, R]], /) -> Activity[P, R]: ...


@overload
def activity(fn: Callable[P, R], /) -> Activity[P, R]: ...


@overload
def activity(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    max_attempts: int | None = 1,
    timeout: timedelta | None = None,
    backoff: Backoff | None = None,
    local: bool = False,
    non_retryable: tuple[type[BaseException], ...] = (),
    heartbeat_timeout: timedelta | None = None,
) -> _ActivityDecorator: ...


def activity(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    max_attempts: int | None = 1,
    timeout: timedelta | None = None,
    backoff: Backoff | None = None,
    local: bool = False,
    non_retryable: tuple[type[BaseException], ...] = (),
    heartbeat_timeout: timedelta | None = None,
) -> Any:
    """Declare an activity: ``@continuum.activity`` or ``@continuum.activity(max_attempts=3)``.

    ``max_attempts=None`` retries without limit (with ``backoff``); an exception of a
    type in ``non_retryable`` fails the activity at once; with ``heartbeat_timeout`` an
    attempt that stops calling ``continuum.heartbeat()`` for longer is treated as crashed.
    """

    def wrap(f: Callable[..., Any]) -> Activity[Any, Any]:
        act: Activity[Any, Any] = Activity(
            f,
            name=name,
            max_attempts=max_attempts,
            timeout=timeout,
            backoff=backoff,
            local=local,
            non_retryable=non_retryable,
            heartbeat_timeout=heartbeat_timeout,
        )
        REGISTRY.add_activity(act)
        return act

    if fn is not None:
        return wrap(fn)
    return _ActivityDecorator(wrap)


class _ActivityDecorator:
    """What ``@continuum.activity(...)`` returns: applies the options to a function."""

    def __init__(self, wrap: Callable[[Callable[..., Any]], Activity[Any, Any]]) -> None:
        self._wrap = wrap

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, R]], /) -> Activity[P, R]: ...

    @overload
    def __call__(self, fn: Callable[P, R], /) -> Activity[P, R]: ...

    def __call__(self, fn: Callable[..., Any], /) -> Activity[Any, Any]:
        return self._wrap(fn)
