"""What the scanner trusts: the workflow-side API, the stdlib allowlist, safe methods.

Everything here is data. The denylist (``continuum_lint.denylist``) is consulted first,
so a module being trusted here never hides a denylisted name inside it
(``datetime`` is trusted, ``datetime.datetime.now`` is still an error).
"""

from __future__ import annotations

EFFECT_API: frozenset[str] = frozenset(
    {
        "execute",
        "start_activity",
        "gather",
        "wait_signal",
        "sleep",
        "now",
        "today",
        "uuid4",
        "random",
        "side_effect",
        "patched",
        "compensate",
        "compensate_all",
        "child",
        "start_child",
        "wait_child",
        "continue_as_new",
        "set_event",
        "wait_update",
        "reply",
        "reject",
    }
)
"""continuum functions that journal a command (or resolve one) when a workflow calls them."""

WORKFLOW_API: frozenset[str] = EFFECT_API | frozenset(
    {
        "compensation",
        "unwrap",
        "info",
        "logger",
        "Update",
        "Cancelled",
        "seconds",
        "minutes",
        "hours",
        "days",
    }
)
"""Names under ``continuum`` that workflow code may call: each is deterministic or journaled."""

CLIENT_TYPES: frozenset[str] = frozenset({"Client", "AsyncClient"})
"""Client classes under ``continuum``; any use of them inside workflow code is CNT109."""

DECORATORS: frozenset[str] = frozenset({"workflow", "pure", "activity"})

SUSPENDING_API: frozenset[str] = WORKFLOW_API - frozenset(
    {
        "seconds",
        "minutes",
        "hours",
        "days",
        "compensation",
        "unwrap",
        "info",
        "logger",
        "Update",
        "Cancelled",
    }
)
"""Workflow-side calls that may raise the engine's suspend/continue signal (a BaseException)."""

SAGA_MARKERS: frozenset[str] = frozenset({"compensation", "compensate", "compensate_all"})

STDLIB_TRUSTED: frozenset[str] = frozenset(
    {
        "math",
        "cmath",
        "json",
        "re",
        "hashlib",
        "hmac",
        "base64",
        "binascii",
        "itertools",
        "collections",
        "functools.partial",
        "functools.reduce",
        "functools.cmp_to_key",
        "functools.total_ordering",
        "functools.wraps",
        "dataclasses",
        "enum",
        "typing",
        "typing_extensions",
        "decimal",
        "fractions",
        "statistics",
        "datetime",
        "uuid.uuid3",
        "uuid.uuid5",
        "uuid.UUID",
        "uuid.NAMESPACE_DNS",
        "uuid.NAMESPACE_URL",
        "uuid.NAMESPACE_OID",
        "uuid.NAMESPACE_X500",
        "random.Random",
        "operator",
        "string",
        "textwrap",
        "copy",
        "bisect",
        "heapq",
        "struct",
        "unicodedata",
        "zlib",
        "difflib",
        "ipaddress",
        "numbers",
        "urllib.parse",
        "html",
        "contextlib.suppress",
        "pathlib",
        "logging.getLogger",
        "logging.Logger.isEnabledFor",
        "logging.Logger.getEffectiveLevel",
        "logging.Logger.getChild",
        "secrets.compare_digest",
        "pydantic",
        "continuum",
    }
)
"""Modules (or single names) whose calls are deterministic. Matched by dotted prefix."""

TRUSTED_BUILTINS_EXCLUDED: frozenset[str] = frozenset(
    {"open", "input", "breakpoint", "print", "eval", "exec", "compile", "__import__"}
)
"""Builtins handled elsewhere (denylist); all other builtins are trusted calls."""

SAFE_METHODS: frozenset[str] = frozenset(
    {
        # list / dict / set / tuple
        "append", "extend", "insert", "remove", "clear", "copy", "count", "index",
        "sort", "reverse", "get", "items", "keys", "values", "update", "setdefault",
        "popitem", "add", "discard", "union", "intersection", "difference",
        "symmetric_difference", "issubset", "issuperset", "isdisjoint", "fromkeys",
        "pop", "most_common", "elements", "appendleft", "popleft", "extendleft",
        # str / bytes
        "upper", "lower", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
        "join", "format", "format_map", "startswith", "endswith", "replace", "encode",
        "decode", "find", "rfind", "rindex", "partition", "rpartition", "title",
        "capitalize", "casefold", "center", "ljust", "rjust", "zfill", "expandtabs",
        "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "isnumeric",
        "isdecimal", "isidentifier", "removeprefix", "removesuffix", "translate", "hex",
        "swapcase",
        # numbers, dates, decimals
        "total_seconds", "isoformat", "strftime", "date", "time", "timestamp",
        "weekday", "isoweekday", "isocalendar", "quantize", "normalize", "to_integral_value",
        "as_integer_ratio", "is_integer", "bit_length", "to_bytes", "conjugate",
        "hexdigest", "digest",
        # pydantic / dataclass values
        "model_dump", "model_dump_json", "model_copy", "model_validate",
        "model_validate_json", "model_construct", "dict", "json",
        # regex match objects
        "group", "groups", "groupdict", "match", "search", "fullmatch", "findall",
        "finditer", "sub", "subn", "start", "end", "span",
        # continuum handles
        "result",
    }
)  # fmt: skip
"""Method names treated as ordinary value methods, not dynamic dispatch (CNT218)."""

TRUSTED_CLASS_BASES: frozenset[str] = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.RootModel",
        "enum.Enum",
        "enum.IntEnum",
        "enum.StrEnum",
        "enum.Flag",
        "enum.IntFlag",
        "typing.NamedTuple",
        "typing.TypedDict",
        "typing_extensions.TypedDict",
        "builtins.Exception",
        "builtins.ValueError",
        "builtins.RuntimeError",
        "builtins.object",
        "builtins.str",
        "builtins.int",
        "builtins.dict",
        "builtins.list",
        "builtins.tuple",
    }
)
"""Base classes whose subclasses are plain data: constructing one is deterministic."""


RULE_OWNED: frozenset[str] = frozenset(
    {"gc", "sys.getrefcount", "weakref", "sys.modules", "functools.lru_cache", "functools.cache"}
    | {"functools.cached_property"}
)
"""Names a dedicated rule reports (hash/identity, global state), not the untrusted-call rule."""


def prefix_match(qname: str, names: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
    """True when ``qname`` equals one of ``names`` or lies under one of them."""
    return any(qname == name or qname.startswith(name + ".") for name in names)


def normalize_continuum(qname: str) -> str:
    """Map any spelling of a continuum public name to ``continuum.<name>[.rest]``.

    ``continuum.engine.api.execute`` and ``continuum.execute`` both become
    ``continuum.execute``; ``continuum.client.Client.start`` becomes ``continuum.Client.start``.
    """
    if not qname.startswith("continuum."):
        return qname
    parts = qname.split(".")
    for i in range(1, len(parts)):
        part = parts[i]
        if part in WORKFLOW_API or part in CLIENT_TYPES or part in DECORATORS:
            return ".".join(["continuum", *parts[i:]])
    return qname
