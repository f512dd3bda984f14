"""The generated guide is current; the pre-commit hooks work from a throwaway repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from continuum_lint.docgen import render
from continuum_lint.rules import ALL_RULES

ROOT = Path(__file__).resolve().parents[2]


def test_committed_guide_matches_rule_data() -> None:
    committed = (ROOT / "guides" / "determinism-rules.md").read_text(encoding="utf-8")
    assert committed == render(), (
        "regenerate: python -m continuum_lint.docgen > guides/determinism-rules.md"
    )


def test_guide_documents_every_code_with_example_and_fix() -> None:
    guide = render()
    for rule in ALL_RULES:
        for doc in rule.CODES:
            section = guide.split(f"### {doc.code}:", 1)[1].split("### ", 1)[0]
            assert doc.bad in section and doc.fix in section


def test_published_hook_definition_runs_continuum_lint_on_python_files() -> None:
    text = (ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    assert "- id: continuum-lint" in text
    assert "entry: continuum lint" in text
    assert "types: [python]" in text


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.mark.slow
def test_pre_commit_hook_blocks_nondeterministic_workflow(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    assert Path(pre_commit).exists(), "pre-commit is a dev dependency"
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "t@example.com")
    _git(repo, "config", "user.name", "t")
    # A local hook with language: system uses the installed scanner (no hook environment
    # to build); the next test runs the published hook definition itself.
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: continuum-lint\n"
        "        name: continuum lint\n"
        f"        entry: {sys.executable} -m continuum_lint\n"
        "        language: system\n"
        "        types: [python]\n"
    )
    (repo / "flows.py").write_text(
        "import time\nimport continuum\n\n\n@continuum.workflow\n"
        "def flow(x: int) -> float:\n    return time.time()\n"
    )
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    command = [pre_commit, "run", "--all-files"]
    failed = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "flows.py:7:12: CNT101 time.time() is nondeterministic" in failed.stdout

    (repo / "flows.py").write_text(
        "import continuum\n\n\n@continuum.workflow\n"
        "def flow(x: int) -> object:\n    return continuum.now()\n"
    )
    _git(repo, "add", ".")
    passed = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env)
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_published_hook_installs_and_blocks_from_a_throwaway_repo(tmp_path: Path) -> None:
    """``.pre-commit-hooks.yaml`` as a user gets it: pre-commit builds the hook's own
    environment from this repository (``try-repo`` includes uncommitted changes) and
    runs ``continuum-lint`` in it. Installing needs the package index (or pip's cache)."""
    pre_commit = shutil.which("pre-commit") or str(Path(sys.executable).parent / "pre-commit")
    assert Path(pre_commit).exists(), "pre-commit is a dev dependency"
    assert (ROOT / ".git").exists(), "run the tests from a git checkout of Continuum"
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "flows.py").write_text(
        "import uuid\nimport continuum\n\n\n@continuum.workflow\n"
        "def flow(x: int) -> str:\n    return str(uuid.uuid4())\n"
    )
    _git(repo, "add", ".")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    command = [pre_commit, "try-repo", str(ROOT), "continuum-lint", "--all-files"]
    done = subprocess.run(command, cwd=repo, capture_output=True, text=True, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "flows.py:7:16: CNT1" in done.stdout and "uuid.uuid4()" in done.stdout, done.stdout
