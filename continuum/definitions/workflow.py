"""``@continuum.workflow``: a deterministic function whose effects are journaled."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Generic, TypeVar, get_type_hints, overload

from continuum import payloads
from continuum.definitions.registry import REGISTRY
from continuum.errors import DefinitionError, WorkflowContextError

I = TypeVar("I")
R = TypeVar("R")

FROZEN_MARKER = "__continuum_frozen__"
"""Module global set by ``continuum build`` in generated ``V_<hash>`` modules."""
FROZEN_NAME = "__continuum_workflow__"
"""The logical workflow name a generated module was frozen from."""


class Workflow(Generic[I, R]):
    """A registered workflow. Start it with ``client.start(flow, input)``.

    ``version_hash`` identifies the exact code: for a frozen module written by
    ``continuum build`` it is the build hash; otherwise it is derived from the source
    text so that an unbuilt project still records which code a run started on.
    """

    def __init__(
        self,
        fn: Callable[[I], R],
        *,
        name: str | None = None,
        version: int = 1,
        snapshot_threshold: int | None = None,
        retention: timedelta | None = None,
        frozen_hash: str | None = None,
    ) -> None:
        if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
            raise DefinitionError(
                f"workflow {fn.__qualname__} is `async def`; workflows are synchronous "
                "`def` functions (use continuum.sleep / continuum.gather for waiting)"
            )
        params = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(params) > 1:
            raise DefinitionError(
                f"workflow {fn.__qualname__} takes {len(params)} arguments; a workflow takes "
                "one input (wrap several values in a pydantic model or dataclass)"
            )
        if snapshot_threshold is not None and snapshot_threshold < 1:
            raise DefinitionError(
                f"workflow {fn.__qualname__}: snapshot_threshold must be a positive number of "
                f"events, got {snapshot_threshold!r} (leave it out to turn snapshots off)"
            )
        if retention is not None and (
            not isinstance(retention, timedelta) or retention <= timedelta(0)
        ):
            raise DefinitionError(
                f"workflow {fn.__qualname__}: retention must be a positive timedelta such as "
                f"continuum.days(30), got {retention!r}"
            )
        self.fn = fn
        self.takes_input = bool(params)
        self.name = name or f"{fn.__module__}:{fn.__qualname__}"
        self.version = version
        self.snapshot_threshold = snapshot_threshold
        self.retention = retention
        self.frozen_hash = frozen_hash
        self._hints: dict[str, Any] | None = None
        self._input_param: str | None = None  # name of the input parameter ("" if none)
        self._source_hash: str | None = None
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn

    def _type_hints(self) -> dict[str, Any]:
        if self._hints is None:
            try:
                self._hints = get_type_hints(self.fn)
            except Exception:  # unresolvable forward refs: raw JSON in, raw JSON out
                self._hints = {}
        return self._hints

    @property
    def input_type(self) -> Any:
        """The annotation of the single input parameter (``Any`` when missing)."""
        if self._input_param is None:
            self._input_param = next(iter(inspect.signature(self.fn).parameters), "")
        return self._type_hints().get(self._input_param, Any) if self._input_param else Any

    @property
    def result_type(self) -> Any:
        """The declared return annotation (``Any`` when missing)."""
        return self._type_hints().get("return", Any)

    @property
    def version_hash(self) -> str:
        """The content hash of the code this object runs."""
        if self.frozen_hash is not None:
            return self.frozen_hash
        if self._source_hash is None:
            try:
                source = inspect.getsource(self.fn)
            except (OSError, TypeError):
                source = f"{self.name}:{self.version}"
            digest = hashlib.sha256(source.encode()).hexdigest()[:16]
            self._source_hash = f"src-{digest}"
        return self._source_hash

    def encode_input(self, value: Any) -> Any:
        """JSON-encode a start input, failing clearly on values JSON cannot carry."""
        return payloads.encode(value, what=f"input of workflow {self.name}")

    def decode_input(self, data: Any) -> Any:
        """Decode a journaled input to the declared input type."""
        return payloads.decode(data, self.input_type, what=f"input of workflow {self.name}")

    def encode_result(self, value: Any) -> Any:
        """JSON-encode the workflow's return value."""
        return payloads.encode(value, what=f"result of workflow {self.name}")

    def decode_result(self, data: Any) -> R:
        """Decode a stored result to the declared return type."""
        decoded: R = payloads.decode(data, self.result_type, what=f"result of {self.name}")
        return decoded

    def __call__(self, input: I) -> R:
        raise WorkflowContextError(
            f"workflow {self.name} cannot be called directly; start it with "
            "client.start(flow, input), continuum.child(flow, input) inside a workflow, "
            "or continuum.testing.WorkflowEnvironment in tests"
        )

    def __repr__(self) -> str:
        suffix = f" frozen={self.frozen_hash}" if self.frozen_hash else ""
        return f"<Workflow {self.name}{suffix}>"


@overload
def workflow(fn: Callable[[I], R], /) -> Workflow[I, R]: ...


@overload
def workflow(
    fn: None = None,
    /,
    *,
    name: str | None = None,
    version: int = 1,
    snapshot_threshold: int | None = None,
    retention: timedelta | None = None,
) -> _WorkflowDecorator: ...


def workflow(
    fn: Callable[[Any], Any] | None = None,
    /,
    *,
    name: str | None = None,
    version: int = 1,
    snapshot_threshold: int | None = None,
    retention: timedelta | None = None,
) -> Any:
    """Declare a workflow: ``@continuum.workflow`` or ``@continuum.workflow(version=2)``.

    Inside a module generated by ``continuum build`` (which sets ``__continuum_frozen__``)
    the decorator registers a frozen version instead of the live workflow.
    """

    def wrap(f: Callable[[Any], Any]) -> Workflow[Any, Any]:
        module_globals = getattr(f, "__globals__", {})
        frozen = module_globals.get(FROZEN_MARKER)
        logical = name or (module_globals.get(FROZEN_NAME) if frozen else None)
        flow: Workflow[Any, Any] = Workflow(
            f,
            name=logical,
            version=version,
            snapshot_threshold=snapshot_threshold,
            retention=retention,
            frozen_hash=str(frozen) if frozen else None,
        )
        if (
            flow.frozen_hash is None
            and name is None
            and f.__module__.rsplit(".", 1)[-1].startswith("V_")
        ):
            raise DefinitionError(f"generated module {f.__module__} lacks {FROZEN_MARKER}")
        REGISTRY.add_workflow(flow)
        return flow

    if fn is not None:
        return wrap(fn)
    return _WorkflowDecorator(wrap)


class _WorkflowDecorator:
    """What ``@continuum.workflow(...)`` returns."""

    def __init__(self, wrap: Callable[[Callable[[Any], Any]], Workflow[Any, Any]]) -> None:
        self._wrap = wrap

    def __call__(self, fn: Callable[[I], R], /) -> Workflow[I, R]:
        return self._wrap(fn)
