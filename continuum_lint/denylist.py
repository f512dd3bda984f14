"""The determinism denylist, as data: fully qualified names → code, message, hint.

Each :class:`Category` groups names that share a code and a remediation hint. A name
matches a qualified name when it is equal to it or a dotted prefix of it, and the
longest matching name wins (``asyncio.wait`` is a warning although ``asyncio`` is an
error). The table is rendered into ``guides/determinism-rules.md`` by
``python -m continuum_lint.docgen``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class When(Enum):
    """When a call to a denylisted name is a finding."""

    ALWAYS = "always"
    NO_ARGS = "when called without enough arguments"


@dataclass(frozen=True)
class Category:
    """One row of the denylist table."""

    code: str
    title: str
    hint: str
    names: tuple[str, ...]
    when: When = When.ALWAYS
    min_args: int = 1
    """With ``When.NO_ARGS``: the call is fine with at least this many arguments."""
    references: bool = False
    """Also flag plain references (``os.environ["X"]``), not only calls and values."""
    bad: str = ""
    fix: str = ""
    hints: dict[str, str] = field(default_factory=dict)
    """Per-name hint overrides."""
    text: str = ""
    """What is wrong, when not "is nondeterministic in workflow code"."""


@dataclass(frozen=True)
class Entry:
    """A single denylisted name, resolved from its category."""

    name: str
    category: Category

    @property
    def code(self) -> str:
        """The finding code, e.g. ``CNT101``."""
        return self.category.code

    @property
    def hint(self) -> str:
        """The remediation hint for this name."""
        return self.category.hints.get(self.name, self.category.hint)


def _each(module: str, *names: str) -> tuple[str, ...]:
    return tuple(f"{module}.{n}" for n in names)


_ACTIVITY = "move it into an activity and call it with continuum.execute(...)"
_LOG_LEVELS = ("debug", "info", "warning", "warn", "error", "exception", "critical", "fatal")

FACTORY_TYPES: dict[str, str] = {
    "logging.getLogger": "logging.Logger",
    "logging.Logger.getChild": "logging.Logger",
    "structlog.get_logger": "structlog.BoundLogger",
    "structlog.getLogger": "structlog.BoundLogger",
}
"""Calls whose result the resolver follows as an instance of a type: after
``log = logging.getLogger(__name__)``, ``log.info`` resolves to ``logging.Logger.info``."""

CATEGORIES: tuple[Category, ...] = (
    Category(
        code="CNT101",
        title="Wall clock and sleep",
        hint="use continuum.now()",
        names=(
            *_each("time", "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter"),
            *_each("time", "perf_counter_ns", "process_time", "process_time_ns", "thread_time"),
            *_each("time", "thread_time_ns", "get_clock_info", "pthread_getcpuclockid"),
            *_each("time", "tzset", "sleep", "clock_gettime", "clock_gettime_ns"),
            *_each("datetime.datetime", "now", "utcnow", "today"),
            "datetime.date.today",
            "pendulum.now",
            "pendulum.today",
            "arrow.now",
            "arrow.utcnow",
            "dateutil.tz.tzlocal",
        ),
        hints={
            "time.sleep": "use continuum.sleep(duration), a durable timer",
            "datetime.date.today": "use continuum.today()",
            "datetime.datetime.today": "use continuum.today() or continuum.now()",
        },
        bad="time.time()",
        fix="continuum.now()",
    ),
    Category(
        code="CNT101",
        title="Host clock formatting without an explicit time",
        hint="pass an explicit time, e.g. time.strftime(fmt, continuum.now().timetuple())",
        names=_each("time", "localtime", "gmtime", "ctime", "asctime"),
        when=When.NO_ARGS,
        bad="time.localtime()",
        fix="time.localtime(continuum.now().timestamp())",
    ),
    Category(
        code="CNT101",
        title="time.strftime without an explicit time",
        hint="pass the time: time.strftime(fmt, continuum.now().timetuple())",
        names=("time.strftime",),
        when=When.NO_ARGS,
        min_args=2,
        bad='time.strftime("%Y-%m-%d")',
        fix='continuum.now().strftime("%Y-%m-%d")',
    ),
    Category(
        code="CNT201",
        title="Host timezone and tz database",
        hint="use an explicit timezone (datetime.timezone.utc) or compute it in an activity",
        names=(
            "datetime.datetime.fromtimestamp",
            "datetime.date.fromtimestamp",
            *_each("zoneinfo.ZoneInfo", "clear_cache", "from_file", "reset_tzpath"),
            "zoneinfo.ZoneInfo",
        ),
        bad='zoneinfo.ZoneInfo("Europe/Paris")',
        fix="datetime.timezone.utc  # or resolve the zone in an activity",
    ),
    Category(
        code="CNT102",
        title="Randomness",
        hint="use continuum.random() (journaled), or random.Random(seed) seeded from it",
        names=(
            *_each("random", "random", "uniform", "triangular", "randint", "randrange"),
            *_each("random", "randbytes", "getrandbits", "choice", "choices", "sample"),
            *_each("random", "shuffle", "seed", "getstate", "setstate", "gauss"),
            *_each("random", "normalvariate", "lognormvariate", "expovariate"),
            *_each("random", "vonmisesvariate", "gammavariate", "betavariate"),
            *_each("random", "paretovariate", "weibullvariate", "binomialvariate"),
            "random.SystemRandom",
            *_each("secrets", "choice", "randbelow", "randbits", "SystemRandom"),
            *_each("secrets", "token_bytes", "token_hex", "token_urlsafe"),
            "os.urandom",
            "os.getrandom",
            "ssl.RAND_bytes",
            *_each("numpy.random", "rand", "randn", "randint", "random", "choice", "shuffle"),
            *_each("numpy.random", "permutation", "seed", "normal", "uniform", "sample"),
        ),
        bad="random.choice(options)",
        fix="random.Random(int(continuum.random() * 2**32)).choice(options)",
    ),
    Category(
        code="CNT102",
        title="Unseeded random generators",
        hint="seed it: numpy.random.default_rng(seed) with a seed from continuum.random()",
        names=("numpy.random.default_rng",),
        when=When.NO_ARGS,
        bad="numpy.random.default_rng()",
        fix="numpy.random.default_rng(int(continuum.random() * 2**32))",
    ),
    Category(
        code="CNT202",
        title="random.Random() without a seed",
        hint="seed it from the engine: random.Random(int(continuum.random() * 2**32))",
        names=("random.Random",),
        when=When.NO_ARGS,
        bad="random.Random()",
        fix="random.Random(int(continuum.random() * 2**32))",
    ),
    Category(
        code="CNT103",
        title="Random and host-derived UUIDs",
        hint="use continuum.uuid4(), or uuid.uuid5(namespace, name) for derived ids",
        names=_each("uuid", "uuid1", "uuid4", "uuid6", "uuid7", "uuid8", "getnode"),
        bad="uuid.uuid4()",
        fix="continuum.uuid4()",
    ),
    Category(
        code="CNT104",
        title="Environment, process and host",
        hint="read it in an activity, or pass it in the workflow input",
        names=(
            *_each("os", "environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"),
            *_each("os", "getpid", "getppid", "getuid", "getlogin", "cpu_count"),
            *_each("os", "process_cpu_count", "getloadavg", "times", "uname", "getcwd"),
            "platform",
            "locale",
            "gettext",
            "getpass",
            "socket.gethostname",
            "sys.argv",
            "builtins.input",
            "builtins.breakpoint",
            "resource.getrusage",
            "threading.get_ident",
            "threading.get_native_id",
            "psutil",
        ),
        references=True,
        bad='os.environ["REGION"]',
        fix="order.region  # pass configuration in the workflow input",
    ),
    Category(
        code="CNT204",
        title="Output to stdout/stderr (repeats on every replay)",
        hint="log from an activity, or use the telemetry events",
        names=("builtins.print", "sys.stdout", "sys.stderr"),
        references=True,
        bad='print("charged", order.id)',
        fix="continuum.execute(log_event, order.id)  # or drop it",
    ),
    Category(
        code="CNT220",
        title="logging calls (repeat on every replay)",
        hint="use continuum.logger (silent while replaying, tagged with the run)",
        names=(
            *_each("logging", *_LOG_LEVELS, "log"),
            *_each("logging.Logger", *_LOG_LEVELS, "log"),
            *_each("loguru.logger", *_LOG_LEVELS, "log", "trace", "success"),
            *_each("structlog.BoundLogger", *_LOG_LEVELS, "log", "msg"),
        ),
        text="logs again each time the workflow is replayed",
        bad=(
            "import logging\n\nlog = logging.getLogger(__name__)\n\n\n@continuum.workflow\n"
            "def charge_flow(order_id: str) -> None:\n"
            '    log.info("charging %s", order_id)'
        ),
        fix=(
            "@continuum.workflow\ndef charge_flow(order_id: str) -> None:\n"
            '    continuum.logger.info("charging %s", order_id)'
        ),
    ),
    Category(
        code="CNT105",
        title="Filesystem",
        hint=_ACTIVITY,
        names=(
            "builtins.open",
            "io.open",
            "io.open_code",
            *_each("os", "listdir", "scandir", "walk", "stat", "lstat", "remove", "unlink"),
            *_each("os", "rename", "replace", "mkdir", "makedirs", "rmdir", "removedirs"),
            *_each("os", "chmod", "chown", "chdir", "symlink", "link", "readlink", "utime"),
            *_each("os", "open", "read", "write", "access", "truncate", "fwalk"),
            *_each("os.path", "exists", "lexists", "isfile", "isdir", "islink", "getmtime"),
            *_each("os.path", "getatime", "getctime", "getsize", "realpath", "expanduser"),
            *_each("os.path", "samefile", "ismount", "abspath"),
            *_each("pathlib.Path", "read_text", "read_bytes", "write_text", "write_bytes"),
            *_each("pathlib.Path", "open", "exists", "is_file", "is_dir", "iterdir", "glob"),
            *_each("pathlib.Path", "rglob", "stat", "lstat", "resolve", "cwd", "home"),
            *_each("pathlib.Path", "expanduser", "mkdir", "touch", "unlink", "rename"),
            *_each("pathlib.Path", "replace", "rmdir", "chmod", "owner", "group", "samefile"),
            *_each("pathlib.Path", "symlink_to", "hardlink_to", "readlink", "absolute"),
            *_each("pathlib.Path", "is_symlink", "walk"),
            "shutil",
            "glob",
            "tempfile",
            "fileinput",
            "filecmp",
            "dbm",
            "shelve",
            "mmap",
            "marshal.dump",
            "marshal.load",
            "gzip.open",
            "bz2.open",
            "lzma.open",
            "tarfile.open",
            "tarfile.TarFile.extract",
            "tarfile.TarFile.extractall",
            "zipfile.ZipFile.extract",
            "zipfile.ZipFile.extractall",
        ),
        bad='open("rates.json").read()',
        fix="continuum.execute(load_rates)",
    ),
    Category(
        code="CNT205",
        title="Local databases",
        hint=_ACTIVITY,
        names=("sqlite3.connect",),
        bad='sqlite3.connect("cache.db")',
        fix="continuum.execute(lookup_cache, key)",
    ),
    Category(
        code="CNT106",
        title="Network, IPC and client libraries",
        hint=_ACTIVITY,
        names=(
            "socket",
            "select",
            "selectors",
            "ssl",
            "http.client",
            "http.server",
            "urllib.request",
            "ftplib",
            "poplib",
            "imaplib",
            "smtplib",
            "socketserver",
            "xmlrpc",
            "webbrowser",
            *_each("asyncio", "open_connection", "start_server", "open_unix_connection"),
            "asyncio.start_unix_server",
            *("requests", "httpx", "aiohttp", "urllib3", "grpc", "boto3", "botocore"),
            *("redis", "psycopg", "psycopg2", "asyncpg", "pymongo", "sqlalchemy"),
            *("aiokafka", "kafka", "pika"),
        ),
        bad='requests.get(f"https://api.example.com/rates/{day}")',
        fix="continuum.execute(fetch_rates, day)",
    ),
    Category(
        code="CNT107",
        title="Threads, processes, signals and the event loop",
        hint=(
            "workflows are synchronous and single-threaded: use continuum.start_activity/"
            "gather for concurrency and continuum.sleep to wait"
        ),
        names=(
            "threading",
            "_thread",
            "concurrent.futures",
            "multiprocessing",
            "subprocess",
            "signal",
            "sched",
            *_each("os", "system", "popen", "fork", "forkpty", "kill", "killpg"),
            *_each("os", "posix_spawn", "posix_spawnp", "spawnl", "spawnle", "spawnlp"),
            *_each("os", "spawnv", "spawnve", "spawnvp", "spawnvpe", "execl", "execle"),
            *_each("os", "execlp", "execlpe", "execv", "execve", "execvp", "execvpe"),
            "asyncio",
        ),
        bad='subprocess.run(["convert", path])',
        fix="continuum.execute(convert_image, path)",
    ),
    Category(
        code="CNT207",
        title="asyncio.wait / as_completed (set-ordered)",
        hint="use continuum.gather(*handles), which waits in a fixed order",
        names=("asyncio.wait", "asyncio.as_completed"),
        bad="asyncio.wait(tasks)",
        fix="continuum.gather(*handles)",
    ),
    Category(
        code="CNT108",
        title="eval, exec and dynamic imports",
        hint="import and call the code statically so the scanner can check it",
        names=(
            *_each("builtins", "eval", "exec", "compile", "__import__"),
            "importlib.import_module",
            "importlib.reload",
            "importlib.__import__",
            "runpy",
        ),
        bad='eval(rule.expression, {"order": order})',
        fix="evaluate(rule, order)  # a @continuum.pure helper",
    ),
)

METHOD_CATEGORIES: tuple[Category, ...] = (
    Category(
        code="CNT201",
        title="astimezone() without a timezone (host timezone)",
        hint="pass an explicit timezone: .astimezone(datetime.timezone.utc)",
        names=("astimezone",),
        when=When.NO_ARGS,
        bad="continuum.now().astimezone()",
        fix="continuum.now().astimezone(datetime.timezone.utc)",
    ),
    Category(
        code="CNT107",
        title="Event-loop methods",
        hint="workflows are synchronous: use continuum.start_activity/gather",
        names=("run_in_executor", "run_forever", "set_task_factory", "run_until_complete"),
        bad="loop.run_in_executor(None, work)",
        fix="continuum.execute(work_activity)",
    ),
)
"""Methods flagged by name on any receiver whose type the scanner cannot resolve."""


def _index(categories: tuple[Category, ...]) -> dict[str, Entry]:
    table: dict[str, Entry] = {}
    for category in categories:
        for name in category.names:
            table[name] = Entry(name, category)
    return table


TABLE: dict[str, Entry] = _index(CATEGORIES)
METHODS: dict[str, Entry] = _index(METHOD_CATEGORIES)


class Denylist:
    """Longest-prefix lookup over the built-in table plus configured extra entries."""

    def __init__(self, extra: dict[str, Entry] | None = None) -> None:
        self.table = dict(TABLE)
        if extra:
            self.table.update(extra)

    def lookup(self, qname: str) -> Entry | None:
        """The entry for ``qname`` or its longest denylisted dotted prefix."""
        name = qname
        while True:
            entry = self.table.get(name)
            if entry is not None:
                return entry
            cut = name.rfind(".")
            if cut <= 0:
                return None
            name = name[:cut]

    def knows(self, qname: str) -> bool:
        """True when ``qname`` itself is a denylisted name (used for star imports)."""
        return qname in self.table


def extra_entry(name: str, code: str, hint: str) -> Entry:
    """Build an entry for a name added through ``[tool.continuum] denylist``."""
    category = Category(code=code, title="Project denylist", hint=hint, names=(name,))
    return Entry(name, category)
