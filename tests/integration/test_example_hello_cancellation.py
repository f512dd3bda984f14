"""The hello_cancellation port (examples/hello_cancellation) against a real database."""

from __future__ import annotations

import pytest

from examples.hello_cancellation import flows, run


def test_cancelled_run_still_runs_its_cleanup(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONTINUUM_DATABASE_URL", pg_dsn)
    flows.CLEANUPS.clear()
    assert run.main() == "cleaned up after report-7"
    assert flows.CLEANUPS == ["report-7"]
    out = capsys.readouterr().out
    assert "run cancelled" in out
