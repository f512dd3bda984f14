"""The rewrites ``continuum lint --fix`` makes, as data: the guide's table and test cases.

Each row is one call form inside a workflow and what it becomes. ``x`` stands for the
argument as written, which is carried over unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rewrite:
    """``name(args)`` in workflow code becomes ``after``."""

    code: str
    name: str
    """The fully qualified function, however it is imported or aliased."""
    args: str
    after: str
    note: str = ""

    @property
    def before(self) -> str:
        """The call as the guide shows it."""
        return f"{self.name}({self.args})"


REWRITES: tuple[Rewrite, ...] = (
    Rewrite("CNT101", "time.time", "", "continuum.now().timestamp()"),
    Rewrite(
        "CNT101",
        "time.sleep",
        "x",
        "continuum.sleep(continuum.seconds(x))",
        "a durable timer: the run may suspend and resume on another worker",
    ),
    Rewrite(
        "CNT101",
        "datetime.datetime.now",
        "x",
        "continuum.now().astimezone(x)",
        "`continuum.now()` alone when `x` is `timezone.utc` or `datetime.UTC`",
    ),
    Rewrite("CNT101", "datetime.datetime.utcnow", "", "continuum.now().replace(tzinfo=None)"),
    Rewrite(
        "CNT101",
        "datetime.datetime.now",
        "",
        "continuum.now().replace(tzinfo=None)",
        "naive like before, but UTC: host-local time differs between workers",
    ),
    Rewrite(
        "CNT101",
        "datetime.datetime.today",
        "",
        "continuum.now().replace(tzinfo=None)",
        "as `datetime.now()`",
    ),
    Rewrite("CNT101", "datetime.date.today", "", "continuum.today()", "the UTC date"),
    Rewrite("CNT102", "random.random", "", "continuum.random()"),
    Rewrite("CNT103", "uuid.uuid4", "", "continuum.uuid4()"),
)

SET_REWRITES: tuple[tuple[str, str], ...] = (
    ("for t in tags:", "for t in sorted(tags):"),
    ("[f(t) for t in tags]", "[f(t) for t in sorted(tags)]"),
    ("list(tags)", "sorted(tags)"),
    ("tuple(tags)", "tuple(sorted(tags))"),
    ("enumerate(tags)", "enumerate(sorted(tags))"),
    ("iter(tags)", "iter(sorted(tags))"),
    ('", ".join(tags)', '", ".join(sorted(tags))'),
)
"""CNT216, where ``tags`` is a set or frozenset (``tags.pop()`` is reported, not fixed)."""
