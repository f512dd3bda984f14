# The part of flake8's file checker that continuum_lint.flake8_plugin wraps.
from typing import Any

class FileChecker:
    filename: str
    results: list[tuple[str, int, int, str, str | None]]
    processor: Any
    def run_checks(self) -> tuple[str, Any, Any]: ...
    def report(self, error_code: str | None, line_number: int, column: int, text: str) -> str: ...
