"""The embedded server: start, reuse across processes, survive exit, stop; DSN resolution."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from continuum.db.config import resolve_dsn
from continuum.db.embedded import (
    continuum_home,
    embedded_dsn,
    pgdata_dir,
    start_embedded,
    stop_embedded,
)
from continuum.errors import ConfigurationError

pytestmark = pytest.mark.postgres

_START_SCRIPT = """
import sys
import tempfile
from continuum.db.embedded import start_embedded
print(start_embedded(home=sys.argv[1]))
"""


@pytest.fixture
def home() -> Iterator[Path]:
    """A fresh CONTINUUM_HOME whose server (if any) is stopped and removed after the test.

    Not under pytest's tmp_path: as root the server runs as another user, and any pytest
    session starting meanwhile resets /tmp/pytest-of-root to mode 0700, locking it out.
    """
    path = Path(tempfile.mkdtemp(prefix="continuum-embedded-test-")) / "home"
    try:
        yield path
    finally:
        stop_embedded(home=path)
        shutil.rmtree(path.parent, ignore_errors=True)


def _server_pid(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_start_creates_the_continuum_database_and_reuses_the_running_server(home: Path) -> None:
    dsn = start_embedded(home=home)

    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("continuum",)
    assert (home / "pgdata" / "PG_VERSION").exists()
    assert start_embedded(home=home) == dsn
    assert embedded_dsn(home=home) is not None


def test_stop_then_start_again_in_the_same_process(home: Path) -> None:
    dsn = start_embedded(home=home)
    before = _server_pid(dsn)

    assert stop_embedded(home=home) is True
    assert embedded_dsn(home=home) is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=2).close()
    assert stop_embedded(home=home) is False

    again = start_embedded(home=home)
    assert _server_pid(again) != before


def test_concurrent_starts_from_threads_share_one_server(home: Path) -> None:
    results: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run() -> None:
        barrier.wait()
        try:
            results.append(start_embedded(home=home))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(results) == 4 and len(set(results)) == 1


@pytest.mark.slow
def test_concurrent_starts_from_processes_share_one_server_that_outlives_them(
    home: Path,
) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _START_SCRIPT, str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]

    assert [proc.returncode for proc in procs] == [0] * 4, [err for _, err in outputs]
    dsns = {out.strip() for out, _ in outputs}
    assert len(dsns) == 1
    # Every starter has exited; the server must still be up for the next command.
    with psycopg.connect(dsns.pop()) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_home_is_continuum_home_env_else_dot_continuum_in_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONTINUUM_HOME", raising=False)
    assert pgdata_dir() == tmp_path.resolve() / ".continuum" / "pgdata"

    monkeypatch.setenv("CONTINUUM_HOME", str(tmp_path / "elsewhere"))
    assert continuum_home() == (tmp_path / "elsewhere").resolve()
    assert continuum_home(tmp_path / "explicit") == (tmp_path / "explicit").resolve()


def test_resolve_dsn_prefers_explicit_then_env_then_embedded(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTINUUM_HOME", str(home))
    monkeypatch.setenv("CONTINUUM_DATABASE_URL", "postgresql://env-host/envdb")

    assert resolve_dsn("postgresql://explicit-host/db") == "postgresql://explicit-host/db"
    assert resolve_dsn() == "postgresql://env-host/envdb"

    monkeypatch.delenv("CONTINUUM_DATABASE_URL")
    embedded = resolve_dsn()
    with psycopg.connect(embedded) as conn:
        assert conn.execute("SELECT current_database()").fetchone() == ("continuum",)
    assert str(home) in embedded


def test_malformed_database_url_env_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTINUUM_DATABASE_URL", "definitely not a dsn")

    with pytest.raises(ConfigurationError, match=r"\$CONTINUUM_DATABASE_URL is not a valid"):
        resolve_dsn()
