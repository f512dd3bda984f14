"""CNT101 to CNT108 and CNT201 to CNT207: calls to (and values of) denylisted names.

The names, codes and hints are data in :mod:`continuum_lint.denylist`; this rule only
matches them, after import and alias resolution.
"""

from __future__ import annotations

import ast

from continuum_lint.denylist import CATEGORIES, METHOD_CATEGORIES, When
from continuum_lint.rules.base import (
    IN_WORKFLOW,
    CodeDoc,
    Context,
    Invalid,
    Rule,
    TargetKind,
    display,
)

_AS_VALUE = "is passed as a value in workflow code, where it will run nondeterministically"


def _docs() -> tuple[CodeDoc, ...]:
    docs: dict[str, CodeDoc] = {}
    for category in (*CATEGORIES, *METHOD_CATEGORIES):
        if category.code not in docs:
            docs[category.code] = CodeDoc(category.code, category.title, category.bad, category.fix)
    return tuple(docs[code] for code in sorted(docs))


class DenylistedCall(Rule):
    """Flag denylisted calls, references (``os.environ``) and functions passed as values."""

    NAME = "denylisted-call"
    CODES = _docs()
    VALID = (
        "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> str:\n"
        "    return continuum.now().isoformat()\n",
        "import datetime\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n"
        "    return datetime.datetime(2024, 1, 1) + datetime.timedelta(days=x)\n",
        "import uuid\nimport continuum\n\n@continuum.workflow\ndef flow(x: str) -> str:\n"
        "    return str(uuid.uuid5(uuid.NAMESPACE_URL, x))\n",
        "import time\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> float:\n"
        "    return continuum.side_effect(time.time)\n",
        "import time\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> float:\n"
        "    return continuum.side_effect(lambda: time.time() + x)\n",
        "import continuum\n\nclass datetime:\n    @staticmethod\n    def now() -> int:\n"
        "        return 1\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
        "    return datetime.now()\n",
        "import time\nimport continuum\n\n@continuum.workflow\ndef flow(x: float) -> object:\n"
        "    return time.localtime(x)\n",
        "import random\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
        "    rng = random.Random(x)\n    return rng.randint(1, 6)\n",
        "import time\nimport continuum\n\ndef not_a_workflow() -> float:\n    return time.time()\n",
        "import secrets\nimport continuum\n\n@continuum.pure\ndef same(a: str, b: str) -> bool:\n"
        "    return secrets.compare_digest(a, b)\n",
        "import logging\nimport continuum\n\nlog = logging.getLogger(__name__)\n\n"
        "@continuum.activity\ndef charge(x: int) -> int:\n    log.info('charging %s', x)\n"
        "    return x\n\n@continuum.workflow\ndef flow(x: int) -> int:\n"
        "    continuum.logger.info('charging %s', x)\n    return continuum.execute(charge, x)\n",
    )
    INVALID = (
        Invalid(
            "import time\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> float:\n"
            "    return time.time()\n",
            ("CNT101",),
            expected_fix="import continuum\n\n@continuum.workflow\ndef flow(x: int) -> float:\n"
            "    return continuum.now().timestamp()\n",
        ),
        Invalid(
            "from datetime import datetime as D\nimport continuum\n\n@continuum.workflow\n"
            "def flow(x: int) -> object:\n    return D.now()\n",
            ("CNT101",),
            expected_fix="import continuum\n\n@continuum.workflow\n"
            "def flow(x: int) -> object:\n    return continuum.now().replace(tzinfo=None)\n",
        ),
        Invalid(
            "import datetime\nimport continuum\n\nD = datetime.datetime\n\n@continuum.workflow\n"
            "def flow(x: int) -> object:\n    return D.now()\n",
            ("CNT101",),
        ),
        Invalid(
            "import uuid\nimport pydantic\nimport continuum\n\n@continuum.workflow\n"
            "def flow(x: int) -> object:\n    return pydantic.Field(default_factory=uuid.uuid4)\n",
            ("CNT103",),
        ),
        Invalid(
            "from time import *\nimport continuum\n\n@continuum.workflow\n"
            "def flow(x: int) -> None:\n"
            "    sleep(5)\n",
            ("CNT101",),
        ),
        Invalid(
            "import time\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> float:\n"
            '    return getattr(time, "time")()\n',
            ("CNT101",),
        ),
        Invalid(
            "import os\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> str:\n"
            '    return os.environ["REGION"]\n',
            ("CNT104",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> None:\n"
            '    print("hello")\n',
            ("CNT204",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> str:\n"
            '    with open("f.txt") as fh:\n        return fh.read()\n',
            ("CNT105",),
        ),
        Invalid(
            "import requests\nimport continuum\n\n@continuum.workflow\n"
            "def flow(x: int) -> object:\n"
            '    return requests.get("https://example.com").json()\n',
            ("CNT106",),
        ),
        Invalid(
            "import asyncio\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n"
            "    return asyncio.wait([])\n",
            ("CNT207",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: str) -> object:\n"
            "    return eval(x)\n",
            ("CNT108",),
        ),
        Invalid(
            "import continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n"
            "    return continuum.now().astimezone()\n",
            ("CNT201",),
        ),
        Invalid(
            "import random\nimport continuum\n\n@continuum.workflow\ndef flow(x: int) -> object:\n"
            "    return random.Random().random()\n",
            ("CNT202",),
        ),
        Invalid(
            "import logging\nimport continuum\n\nlogger = logging.getLogger(__name__)\n\n"
            "@continuum.workflow\ndef flow(x: int) -> int:\n"
            "    logging.info('start %s', x)\n    logger.warning('slow')\n"
            "    logging.getLogger('audit').log(logging.INFO, 'x=%s', x)\n    return x\n",
            ("CNT220", "CNT220", "CNT220"),
        ),
        Invalid(
            "import logging\nimport continuum\nfrom loguru import logger\nimport structlog\n\n"
            "log = logging.getLogger(__name__)\nslog = structlog.get_logger()\n\n"
            "@continuum.workflow\ndef flow(x: int) -> int:\n"
            "    if log.isEnabledFor(logging.DEBUG):\n        log.getChild('x').debug('d')\n"
            "    logger.info('loguru')\n    slog.info('event', x=x)\n    return x\n",
            ("CNT220", "CNT220", "CNT220"),
        ),
        Invalid(
            "import logging\nimport continuum\n\n@continuum.pure\n"
            "def note(log: logging.Logger, x: int) -> int:\n"
            "    log.debug('x=%s', x)\n    return x\n",
            ("CNT220",),
        ),
        # The safe fixes of `continuum lint --fix` (continuum_lint.fix), one per form.
        Invalid(
            "import datetime as dt\n\nimport continuum\n\n\n@continuum.workflow\n"
            "def flow(x: int) -> str:\n"
            "    start = dt.datetime.now(dt.timezone.utc)  # aware, UTC\n"
            "    return (dt.datetime.utcnow() - start.replace(tzinfo=None)).isoformat()\n",
            ("CNT101", "CNT101"),
            expected_fix="import continuum\n\n\n@continuum.workflow\n"
            "def flow(x: int) -> str:\n"
            "    start = continuum.now()  # aware, UTC\n"
            "    return (continuum.now().replace(tzinfo=None) - start.replace(tzinfo=None))"
            ".isoformat()\n",
        ),
        Invalid(
            "from datetime import date, datetime\nfrom zoneinfo import ZoneInfo\n\n"
            "from continuum import workflow\n\n\n@workflow\n"
            "def flow(tz: str) -> str:\n"
            "    local = datetime.now(ZoneInfo(tz))\n"
            '    return f"{date.today()} {local:%H:%M}"\n',
            ("CNT101", "CNT101", "CNT201"),
            expected_fix="from zoneinfo import ZoneInfo\n\n"
            "from continuum import workflow\nimport continuum\n\n\n@workflow\n"
            "def flow(tz: str) -> str:\n"
            "    local = continuum.now().astimezone(ZoneInfo(tz))\n"
            '    return f"{continuum.today()} {local:%H:%M}"\n',
        ),
        Invalid(
            "import time\nimport continuum\n\n@continuum.workflow\n"
            "def flow(delay: float) -> None:\n"
            "    time.sleep(delay * 2)  # back off\n"
            "    started = time.monotonic()\n",
            ("CNT101", "CNT101"),
            expected_fix="import time\nimport continuum\n\n@continuum.workflow\n"
            "def flow(delay: float) -> None:\n"
            "    continuum.sleep(continuum.seconds(delay * 2))  # back off\n"
            "    started = time.monotonic()\n",
        ),
        Invalid(
            "import random\nimport uuid\n\nimport continuum\n\n\n@continuum.workflow\n"
            "def flow(x: int) -> str:\n"
            "    if random.random() < 0.5:\n"
            "        return str(uuid.uuid4())\n"
            '    return random.choice(["a", "b"])\n',
            ("CNT102", "CNT102", "CNT103"),
            expected_fix="import random\n\nimport continuum\n\n\n@continuum.workflow\n"
            "def flow(x: int) -> str:\n"
            "    if continuum.random() < 0.5:\n"
            "        return str(continuum.uuid4())\n"
            '    return random.choice(["a", "b"])\n',
        ),
        Invalid(
            "import time\nimport continuum\n\ndef helper() -> float:\n    return time.time()\n\n"
            "@continuum.workflow\ndef flow(x: int) -> float:\n    return helper()\n",
            ("CNT101",),
        ),
    )

    def visit_Call(self, ctx: Context, node: ast.Call) -> None:
        target = ctx.classify(node)
        if target.kind is not TargetKind.DENIED or target.entry is None:
            return
        entry = target.entry
        qname = target.qname or entry.name
        label = f"{display(qname)}()" if "." in qname else f".{qname}()"
        ctx.report(node, entry.code, label, entry.category.text or IN_WORKFLOW, entry.hint)

    def visit_Name(self, ctx: Context, node: ast.Name) -> None:
        self._reference(ctx, node)

    def visit_Attribute(self, ctx: Context, node: ast.Attribute) -> None:
        self._reference(ctx, node)

    def _reference(self, ctx: Context, node: ast.Name | ast.Attribute) -> None:
        if isinstance(node.ctx, ast.Store):
            return
        parent = ctx.parent()
        if isinstance(parent, ast.Attribute | ast.arguments):
            return  # part of a longer name, or a parameter default
        if isinstance(parent, ast.Call) and parent.func is node:
            return
        qname = ctx.resolve(node)
        if qname is None:
            return
        entry = ctx.config.denylist.lookup(qname)
        if entry is None or entry.category.when is When.NO_ARGS:
            return
        if entry.category.references:
            text = entry.category.text or IN_WORKFLOW
            ctx.report(node, entry.code, display(qname), text, entry.hint)
        else:
            ctx.report(node, entry.code, display(qname), _AS_VALUE, entry.hint)
