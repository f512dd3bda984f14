"""The mypy plugin, run in a subprocess over small snippet modules."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HEADER = """\
import dataclasses
import socket

import pydantic

import continuum


class Order(pydantic.BaseModel):
    id: str


@dataclasses.dataclass
class Batch:
    ids: list[str]


@continuum.workflow
def child_flow(order: Order) -> str:
    return order.id
"""

SNIPPETS = {
    "good.py": """
        @continuum.workflow(version=2)
        def parent(batch: Batch) -> list[str]:
            first = continuum.child(child_flow, Order(id=batch.ids[0]))
            if len(batch.ids) > 1:
                continuum.continue_as_new(Batch(ids=batch.ids[1:]))
            return [first]


        @continuum.activity
        def charge(order_id: str, amounts: dict[str, int]) -> tuple[str, int | None]:
            return (order_id, None)


        @continuum.workflow
        def talks(x: int) -> int:
            continuum.set_event("order", Order(id="o-1"))
            upd = continuum.wait_update("approve", type=Order)
            continuum.reply(upd, {"ok": True, "ids": [upd.payload.id]})
            continuum.reject(upd, "no")
            return x
        """,
    "child_mismatch.py": """
        @continuum.workflow
        def parent(batch: Batch) -> str:
            return continuum.child(child_flow, batch)
        """,
    "start_child_mismatch.py": """
        @continuum.workflow
        def parent(batch: Batch) -> None:
            continuum.start_child(child_flow, "not-an-order")
        """,
    "messages_unserializable.py": """
        @continuum.workflow
        def talks(x: int) -> int:
            continuum.set_event("sock", socket.socket())
            upd = continuum.wait_update("approve", type=socket.socket)
            by_number: dict[int, str] = {1: "int keys"}
            continuum.reply(upd, by_number)
            return x
        """,
    "continue_mismatch.py": """
        @continuum.workflow(version=3)
        def looping(batch: Batch) -> None:
            continuum.continue_as_new(Order(id="x"))
        """,
    "unserializable.py": """
        @continuum.workflow
        def sock_flow(s: socket.socket) -> dict[int, str]:
            return {}


        @continuum.activity
        def act(x: int) -> set[int]:
            return set()


        @continuum.workflow
        def waits(x: int) -> int:
            continuum.wait_signal("go", type=socket.socket)
            return x
        """,
}


@pytest.fixture(scope="module")
def mypy_output(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    directory = tmp_path_factory.mktemp("mypy_snippets")
    for name, body in SNIPPETS.items():
        (directory / name).write_text(HEADER + "\n\n" + textwrap.dedent(body))
    (directory / "mypy.ini").write_text(
        "[mypy]\nplugins = continuum_lint.mypy\nfollow_imports = silent\n"
        "ignore_missing_imports = true\n"
    )
    env = {**os.environ, "MYPYPATH": str(ROOT)}
    command = [
        sys.executable, "-m", "mypy", "--config-file", "mypy.ini",
        "--cache-dir", str(directory / ".cache"), "--no-error-summary", *SNIPPETS,
    ]  # fmt: skip
    result = subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True)
    assert "INTERNAL ERROR" not in result.stdout + result.stderr
    by_file: dict[str, list[str]] = {name: [] for name in SNIPPETS}
    for line in result.stdout.splitlines():
        name = line.split(":", 1)[0]
        if name in by_file and ": error:" in line:
            by_file[name].append(line.split(": error: ", 1)[1])
    return by_file


def test_valid_workflows_activities_and_calls_pass(mypy_output: dict[str, list[str]]) -> None:
    assert mypy_output["good.py"] == []


def test_child_input_must_match_child_workflow_input(mypy_output: dict[str, list[str]]) -> None:
    assert any(
        'child workflow input "Batch" does not match the child\'s input type "Order"' in m
        for m in mypy_output["child_mismatch.py"]
    )


def test_start_child_input_is_checked_too(mypy_output: dict[str, list[str]]) -> None:
    assert any(
        'child workflow input "str" does not match' in m
        for m in mypy_output["start_child_mismatch.py"]
    )


def test_continue_as_new_must_match_enclosing_workflow_input(
    mypy_output: dict[str, list[str]],
) -> None:
    assert mypy_output["continue_mismatch.py"] == [
        "continue_as_new input \"Order\" does not match workflow 'looping' input type "
        '"Batch"  [misc]'
    ]


def test_unserializable_inputs_results_and_signal_payloads_are_errors(
    mypy_output: dict[str, list[str]],
) -> None:
    messages = mypy_output["unserializable.py"]
    assert any(
        m.startswith("workflow sock_flow input 's': \"socket\" is not JSON") for m in messages
    )
    assert any("workflow sock_flow result" in m and "dict keys must be str" in m for m in messages)
    assert any(m.startswith('activity act result: "set[int]" is not JSON') for m in messages)
    assert any(m.startswith('signal payload type "socket" is not JSON') for m in messages)
    assert not any("Argument 1" in m for m in messages), "the right overload still matches"


def test_plugin_works_from_a_project_outside_the_repo_without_mypypath(tmp_path: Path) -> None:
    # The test environment installs Continuum with `pip install -e .`: mypy must find the
    # package (a plain path .pth, not an import hook mypy cannot run) and the plugin.
    (tmp_path / "app.py").write_text(
        textwrap.dedent(
            """\
            import continuum


            @continuum.workflow
            def flow(x: int) -> int:
                continuum.continue_as_new("not an int")
                return x
            """
        )
    )
    (tmp_path / "mypy.ini").write_text("[mypy]\nstrict = True\nplugins = continuum_lint.mypy\n")
    env = {k: v for k, v in os.environ.items() if k != "MYPYPATH"}
    command = [sys.executable, "-m", "mypy", "--no-incremental", "app.py"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert "import-not-found" not in result.stdout, result.stdout
    assert 'continue_as_new input "str" does not match' in result.stdout, result.stdout
    assert result.stdout.count("error:") == 1, result.stdout


def test_event_values_replies_and_update_payloads_are_checked(
    mypy_output: dict[str, list[str]],
) -> None:
    messages = mypy_output["messages_unserializable.py"]
    assert any(m.startswith('event value "socket" is not JSON') for m in messages)
    assert any(m.startswith('signal payload type "socket" is not JSON') for m in messages)
    assert any(m.startswith("update reply") and "dict keys must be str" in m for m in messages)
