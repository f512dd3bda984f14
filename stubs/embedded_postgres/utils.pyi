from pathlib import Path

class PostmasterInfo:
    pid: int
    pgdata: Path
    socket_dir: Path | None
    port: int | None
    status: str
    def is_running(self) -> bool: ...
    def get_uri(self, user: str = "postgres", database: str | None = None) -> str: ...
    @classmethod
    def read_from_pgdata(cls, pgdata: Path) -> PostmasterInfo | None: ...
