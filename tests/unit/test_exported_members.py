"""The package's public surface is ``__all__``, and the docs use only names it has."""

from __future__ import annotations

import glob
import re
import subprocess
import sys
from pathlib import Path

import continuum

ROOT = Path(__file__).resolve().parents[2]
# Loaded on first access by the package's module __getattr__ (they import psycopg and the
# runtime, which workflow modules never need).
LAZY = {"AsyncClient", "Client", "Worker"}


def test_all_lists_exactly_the_public_surface() -> None:
    public = {
        name
        for name, value in vars(continuum).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "continuum").startswith("continuum")
        and not (isinstance(value, type(continuum)) and name not in continuum.__all__)
    }
    public |= {"__version__"} | LAZY
    assert set(continuum.__all__) == public


def test_client_and_worker_are_importable_from_the_package() -> None:
    from continuum import Client, Worker
    from continuum.client.client import Client as ClientImpl
    from continuum.runtime.worker import Worker as WorkerImpl

    assert continuum.Client is Client is ClientImpl
    assert continuum.Worker is Worker is WorkerImpl
    assert {"Client", "Worker"} <= set(dir(continuum))


def test_client_and_worker_load_lazily() -> None:
    code = (
        "import sys, continuum\n"
        "assert 'psycopg' not in sys.modules, 'import continuum pulled in psycopg'\n"
        "continuum.Client\n"
        "assert 'psycopg' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        continuum.NoSuchThing  # type: ignore[attr-defined]
    except AttributeError as exc:
        assert "NoSuchThing" in str(exc)
    else:
        raise AssertionError("continuum.NoSuchThing did not raise")


def test_every_continuum_name_in_readme_and_guides_exists() -> None:
    used: dict[str, str] = {}
    for path in [ROOT / "README.md", *map(Path, glob.glob(str(ROOT / "guides" / "*.md")))]:
        for match in re.finditer(r"\bcontinuum\.([A-Za-z_]\w*)", path.read_text("utf-8")):
            used.setdefault(match.group(1), path.name)
    assert "Client" in used and "Worker" in used
    missing = {
        name: where
        for name, where in used.items()
        if not hasattr(continuum, name) and not _is_submodule(name) and not _is_otel_name(name)
    }
    assert not missing, f"the docs use names `import continuum` does not have: {missing}"


def _is_otel_name(name: str) -> bool:
    """An OpenTelemetry span or attribute name (``continuum.run_attempt``), not Python."""
    from continuum.otel import ATTRIBUTES, SPAN_NAMES

    return f"continuum.{name}" in SPAN_NAMES | ATTRIBUTES


def _is_submodule(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(f"continuum.{name}") is not None


def test_every_error_class_is_importable_from_the_package() -> None:
    for name in (
        "ContinuumError",
        "ActivityFailed",
        "SignalTimeout",
        "ReplayDriftError",
        "SuspendLeakError",
        "RunNotFound",
        "RunTerminal",
        "RunFailed",
        "RunCancelled",
        "ActivityCancelled",
        "ActivityContextError",
        "TaskTokenError",
        "StaleTaskToken",
    ):
        cls = getattr(continuum, name)
        assert issubclass(cls, continuum.ContinuumError)
        assert cls.__module__ == "continuum.errors"
    assert issubclass(continuum.ResultTimeout, TimeoutError)


def test_optional_parts_are_reachable_as_attributes() -> None:
    # SPEC writes continuum.observer.app(client) and continuum.otel.setup(): after a bare
    # `import continuum`, those submodules load on first access.
    code = (
        "import continuum\n"
        "assert callable(continuum.observer.app)\n"
        "assert callable(continuum.otel.setup)\n"
        "assert continuum.testing.WorkflowEnvironment\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_error_families_group_run_and_workflow_errors() -> None:
    run_errors = (
        "RunNotFound",
        "RunTerminal",
        "RunAlreadyExists",
        "RunFailed",
        "RunCancelled",
        "ResultTimeout",
        "ForkError",
        "UpdateRejected",
        "UpdateTimeout",
    )
    workflow_errors = (
        "WorkflowNotRegistered",
        "ReplayDriftError",
        "SuspendLeakError",
        "WorkflowContextError",
        "ActivityFailed",
        "ChildFailed",
        "SignalTimeout",
        "UpdateAlreadyAnswered",
    )
    for family, members in (
        (continuum.RunError, run_errors),
        (continuum.WorkflowError, workflow_errors),
    ):
        assert family.__name__ in continuum.__all__
        assert issubclass(family, continuum.ContinuumError)
        for name in members:
            assert issubclass(getattr(continuum, name), family), name
    assert not issubclass(continuum.RunError, continuum.WorkflowError)
    assert not issubclass(continuum.WorkflowError, continuum.RunError)
    # the families add a root, they take nothing away
    assert issubclass(continuum.ResultTimeout, TimeoutError)
    assert issubclass(continuum.UpdateTimeout, TimeoutError)
    assert continuum.RunNotFound("r-1").run_id == "r-1"
    assert continuum.ResultTimeout("waited").run_id == ""
    assert continuum.RunNotFound("r-1").code == "run_not_found"
    assert continuum.RunError("x").to_json()["code"] == "run_error"


def test_fenced_is_internal() -> None:
    import continuum.errors
    from continuum.journal.fencing import Fenced

    assert not hasattr(continuum.errors, "Fenced")
    assert "Fenced" not in continuum.__all__
    assert issubclass(Fenced, continuum.ContinuumError)


def test_message_and_cancellation_names_are_exported() -> None:
    assert issubclass(continuum.UpdateRejected, continuum.ContinuumError)
    assert issubclass(continuum.UpdateTimeout, TimeoutError)
    assert issubclass(continuum.Cancelled, BaseException)
    assert not issubclass(continuum.Cancelled, Exception)
    for name in ("set_event", "wait_update", "reply", "reject", "info", "logger", "Update"):
        assert name in continuum.__all__
