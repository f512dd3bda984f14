"""The plumbing every PostgreSQL journal method stands on: the pool, one transaction per
call, and the retry of a cancel/commit whose parent moved meanwhile."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, Self, TypeVar

from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from continuum.db.config import DatabaseConfig
from continuum.db.pool import create_pool
from continuum.errors import ConfigurationError, PayloadError
from continuum.journal.postgres.locks import ParentMoved
from continuum.journal.postgres.statements import Cursor

T = TypeVar("T")
X = TypeVar("X")
P = TypeVar("P")
R = TypeVar("R")

_PARENT_MOVED_RETRIES = 20


class JournalBase:
    """A journal on PostgreSQL, over a psycopg pool (or a DSN it opens a pool for).

    ``max_child_depth`` bounds child nesting (the cancel cascade walks at most that many
    generations, plus a margin). ``successor_version``, when set, is the version hash
    given to ``continue_as_new`` successors (default: the finishing run's hash).
    """

    def __init__(
        self,
        pool_or_dsn: ConnectionPool[Any] | str,
        *,
        max_child_depth: int = 10,
        instance: str = "default",
        lease_ttl: timedelta = timedelta(seconds=30),
        task_lease_ttl: timedelta = timedelta(seconds=30),
        successor_version: str | None = None,
    ) -> None:
        if isinstance(pool_or_dsn, str):
            self._pool: ConnectionPool[Any] = create_pool(DatabaseConfig(dsn=pool_or_dsn))
            self._owns_pool = True
        else:
            self._pool = pool_or_dsn
            self._owns_pool = False
        if max_child_depth < 1:
            raise ConfigurationError(f"max_child_depth must be >= 1, got {max_child_depth}")
        self.max_child_depth = max_child_depth
        self.instance = instance
        self.lease_ttl = lease_ttl
        self.task_lease_ttl = task_lease_ttl
        self.successor_version = successor_version
        # A sticky worker's parked runs (run id -> (last seq, generation)): claims that
        # load a run read only the events after that seq (see load_activations).
        self.sticky_hint: Callable[[str], tuple[int, Any] | None] | None = None

    # -- plumbing -----------------------------------------------------------------
    @property
    def pool(self) -> ConnectionPool[Any]:
        """The connection pool this journal uses."""
        return self._pool

    def close(self) -> None:
        """Close the pool if this journal opened it."""
        if self._owns_pool:
            self._pool.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Cursor]:
        with (
            self._pool.connection() as conn,
            conn.transaction(),
            conn.cursor(row_factory=dict_row) as cur,
        ):
            yield cur

    def _run(self, fn: Callable[[Cursor], T]) -> T:
        with self._tx() as cur:
            return fn(cur)

    def _run_retrying(self, fn: Callable[[Cursor], T]) -> T:
        for _ in range(_PARENT_MOVED_RETRIES):
            try:
                return self._run(fn)
            except ParentMoved:
                continue  # the transaction rolled back; re-read the parent and retry
        return self._run(fn)

    @property
    def _cascade_levels(self) -> int:
        return self.max_child_depth + 2

    def _batch(
        self,
        items: Sequence[X],
        prepare: Callable[[X], P],
        write: Callable[[Cursor, list[P]], Sequence[R | BaseException | None]],
    ) -> list[R | BaseException | None]:
        """Serialize every item (a ``PayloadError`` is that item's outcome alone), then
        write the rest in one transaction; outcomes come back in the items' order."""
        out: list[R | BaseException | None] = [None] * len(items)
        offered: list[int] = []
        batch: list[P] = []
        for k, item in enumerate(items):
            try:
                batch.append(prepare(item))
            except PayloadError as exc:
                out[k] = exc
                continue
            offered.append(k)
        if batch:
            done = self._run(lambda cur: write(cur, batch))
            for k, outcome in zip(offered, done, strict=True):
                out[k] = outcome
        return out
