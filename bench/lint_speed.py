"""Determinism scanner speed. One command, prints JSON:

    .venv/bin/python bench/lint_speed.py

- ``scanner_lines_per_s``: the scanner alone, in process, over a generated corpus of
  workflow modules (every file parsed and checked).
- ``flake8_tree_s``: wall time of ``flake8 --select CNT -j 1`` over a generated tree of
  ~100k lines where 5 % of the files define workflows.
- ``continuum_lint_tree_s``: wall time of ``python -m continuum_lint`` over the same tree
  (the scanner without flake8's own tokenizing and built-in checkers).
- ``flake8_baseline_s``: the same flake8 command over the same tree with no workflow
  files, i.e. what flake8 (pycodestyle, pyflakes, tokenizing) costs before this plugin
  does any work; ``plugin_overhead_s`` is the difference (two wall times: noisy).
- ``plugin_own_s``: the plugin's own share, measured directly: ``plugin_own.run_s``, its
  ``run()`` over every file of the tree, in process, given the lines and ``ast`` tree
  flake8 hands it (flake8 builds both for its own checks), plus ``plugin_own.import_s``,
  the time a fresh interpreter that has loaded flake8 (as flake8 has when it loads its
  plugins) takes to import the plugin module (libcst included).
- ``model_lines_per_s``: the libcst source model alone on the workflow modules: parse,
  index imports, find roots and build every root's closure (what the scanner and codegen
  share), in process.

Targets (issue 18): ``continuum_lint_tree_s`` ≤ 1 s and ``plugin_own_s`` ≤ 0.5 s. Wall
times swing with other work on a shared machine, so both are also given as CPU time
(``*_cpu_s``: user + system seconds of the process doing the work).
"""

from __future__ import annotations

import ast
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from continuum_lint import Scanner
from continuum_lint.flake8_plugin import ContinuumFlake8Plugin
from continuum_lint.source.closure import closure, root_member
from continuum_lint.source.discover import roots_in
from continuum_lint.source.modules import ModuleCache, parse_source

WORKFLOW_MODULE = '''\
"""Generated workflow module {n}."""

from __future__ import annotations

import dataclasses
import decimal
import json

import pydantic

import continuum
from continuum import hours, seconds


class Line{n}(pydantic.BaseModel):
    sku: str
    quantity: int
    price_cents: int


class Order{n}(pydantic.BaseModel):
    id: str
    customer: str
    lines: list[Line{n}]
    region: str = "eu"


@dataclasses.dataclass
class Receipt{n}:
    order_id: str
    total: int
    charge_id: str


@continuum.activity(max_attempts=3, timeout=seconds(30))
def reserve_{n}(sku: str, quantity: int) -> str:
    return f"res-{{sku}}-{{quantity}}"


@continuum.activity(max_attempts=3)
def release_{n}(reservation: str) -> None:
    return None


@continuum.activity(max_attempts=5)
def charge_{n}(order_id: str, total: int) -> str:
    return f"ch-{{order_id}}-{{total}}"


@continuum.activity()
def refund_{n}(charge_id: str) -> None:
    return None


def _line_total(line: Line{n}) -> int:
    return line.quantity * line.price_cents


@continuum.pure
def total_of_{n}(lines: list[Line{n}]) -> int:
    subtotal = sum(_line_total(line) for line in lines)
    tax = decimal.Decimal(subtotal) * decimal.Decimal("0.2")
    return subtotal + int(tax.quantize(decimal.Decimal("1")))


@continuum.pure
def summary_{n}(order: Order{n}, total: int) -> str:
    skus = sorted({{line.sku for line in order.lines}})
    return json.dumps({{"order": order.id, "skus": skus, "total": total}})


@continuum.workflow(version=2)
def order_flow_{n}(order: Order{n}) -> Receipt{n}:
    reservations = []
    for line in order.lines:
        ref = continuum.execute(
            reserve_{n},
            line.sku,
            line.quantity,
            compensate=continuum.compensation(release_{n}, line.sku),
        )
        reservations.append(ref)
    total = total_of_{n}(order.lines)
    try:
        charge = continuum.execute(
            charge_{n}, order.id, total, compensate=continuum.compensation(refund_{n}, order.id)
        )
    except continuum.ActivityFailed:
        continuum.compensate_all()
        raise
    decision = continuum.wait_signal("fraud_review", timeout=hours(24))
    if decision != "approved":
        continuum.compensate_all()
    continuum.sleep(seconds(5))
    note = summary_{n}(order, total)
    if len(note) > 10_000:
        continuum.execute(refund_{n}, continuum.unwrap(charge), compensate=None)
    return Receipt{n}(order_id=order.id, total=total, charge_id=continuum.unwrap(charge))
'''

PLAIN_MODULE = '''\
"""Generated plain module {n} (no workflows)."""

import os


def func_{n}_{i}(a: int, b: int) -> list[int]:
    x = a + b * {i}
    if x > 10:
        return [x - 1]
    return [v for v in range(x)]

'''


def _plain(n: int, target_lines: int) -> str:
    header, _, body = PLAIN_MODULE.partition("\n\n\ndef ")
    body = "def " + body
    parts = [header.format(n=n, i=0)]
    i = 0
    while sum(p.count("\n") for p in parts) < target_lines:
        parts.append("\n\n" + body.format(n=n, i=i))
        i += 1
    return "".join(parts)


def scanner_throughput(directory: Path, modules: int = 60) -> dict[str, float]:
    """Lines/s of the scanner alone over ``modules`` generated workflow modules."""
    sources = [WORKFLOW_MODULE.format(n=n) for n in range(modules)]
    paths = []
    for n, source in enumerate(sources):
        path = directory / f"flows_{n}.py"
        path.write_text(source)
        paths.append(path)
    lines = sum(s.count("\n") for s in sources)
    scanner = Scanner()
    start, cpu = time.perf_counter(), time.process_time()
    findings = 0
    for path, source in zip(paths, sources, strict=True):
        findings += len(scanner.scan_source(source, str(path)))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return {
        "lines": lines,
        "seconds": round(elapsed, 3),
        "findings": findings,
        "lines_per_s": round(lines / elapsed),
        "lines_per_cpu_s": round(lines / cpu),
    }


def model_throughput(directory: Path, modules: int = 60) -> dict[str, float]:
    """Lines/s of the libcst source model alone over ``modules`` workflow modules."""
    sources = [WORKFLOW_MODULE.format(n=n) for n in range(modules)]
    lines = sum(s.count("\n") for s in sources)
    cache = ModuleCache([directory])
    start, cpu = time.perf_counter(), time.process_time()
    members = 0
    for n, source in enumerate(sources):
        src = parse_source(f"flows_{n}", directory / f"flows_{n}.py", False, source)
        cache.add(src)
        for node, kind in roots_in(src):
            members += len(closure(root_member(src, node, kind), cache).members)
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return {
        "lines": lines,
        "seconds": round(elapsed, 3),
        "members": members,
        "lines_per_s": round(lines / elapsed),
        "lines_per_cpu_s": round(lines / cpu),
    }


def build_tree(
    directory: Path, total_lines: int = 100_000, files: int = 500, workflows: bool = True
) -> dict[str, int]:
    """A tree of ``files`` modules totalling ~``total_lines``; 5 % define workflows."""
    per_file = total_lines // files
    workflow_every = 20
    lines = 0
    workflow_files = 0
    for n in range(files):
        package = directory / f"pkg_{n // 50}"
        package.mkdir(exist_ok=True)
        if workflows and n % workflow_every == 0:
            source = WORKFLOW_MODULE.format(n=n)
            source += _plain(n, per_file - source.count("\n")).split("\n", 3)[3]
            workflow_files += 1
        else:
            source = _plain(n, per_file)
        (package / f"mod_{n}.py").write_text(source)
        lines += source.count("\n")
    return {"files": files, "lines": lines, "workflow_files": workflow_files}


def plugin_own_time(tree: Path) -> dict[str, float]:
    """The flake8 plugin's own work over ``tree``: its run() on each file, and its import.

    As under ``flake8 -j 1``, one file's lines and ``ast`` tree exist at a time (built
    outside the timer: flake8 builds both for its own checks); only ``run()`` is timed.
    """
    run_s = 0.0
    run_cpu_s = 0.0
    findings = 0
    for path in sorted(tree.rglob("*.py")):
        lines = path.read_text().splitlines(keepends=True)
        module = ast.parse("".join(lines))
        start, cpu = time.perf_counter(), time.process_time()
        findings += sum(1 for _ in ContinuumFlake8Plugin(module, str(path), lines).run())
        run_s += time.perf_counter() - start
        run_cpu_s += time.process_time() - cpu
    # flake8 is loaded before it imports its plugins: only the plugin's own import counts.
    probe = (
        "import flake8.checker, time; t, c = time.perf_counter(), time.process_time(); "
        "import continuum_lint.flake8_plugin; "
        "print(time.perf_counter() - t, time.process_time() - c)"
    )
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    import_s, import_cpu_s = (float(x) for x in imported.stdout.split())
    return {
        "run_s": round(run_s, 3),
        "import_s": round(import_s, 3),
        "run_cpu_s": round(run_cpu_s, 3),
        "import_cpu_s": round(import_cpu_s, 3),
        "findings": findings,
    }


def _timed(command: list[str], cwd: Path) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    return elapsed, result.returncode, len(result.stdout.splitlines())


def _cpu(command: list[str], cwd: Path) -> float:
    """CPU seconds (user + system) a child process used: robust to a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    """Run both measurements and print one JSON object."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = root / "corpus"
        corpus.mkdir()
        throughput = scanner_throughput(corpus)
        model = model_throughput(corpus)
        tree = root / "tree"
        tree.mkdir()
        shape = build_tree(tree)
        flake8 = [sys.executable, "-m", "flake8", "--select", "CNT", "-j", "1", "."]
        flake8_s, _, flake8_out = _timed(flake8, tree)
        lint_command = [sys.executable, "-m", "continuum_lint", "."]
        lint_s, _, lint_out = _timed(lint_command, tree)
        lint_cpu_s = _cpu(lint_command, tree)
        baseline = root / "baseline"
        baseline.mkdir()
        build_tree(baseline, workflows=False)
        baseline_s, _, _ = _timed(flake8, baseline)
        own = plugin_own_time(tree)
    print(
        json.dumps(
            {
                "scanner_lines_per_s": throughput["lines_per_s"],
                "scanner_lines_per_cpu_s": throughput["lines_per_cpu_s"],
                "scanner_corpus": throughput,
                "model_lines_per_s": model["lines_per_s"],
                "model_lines_per_cpu_s": model["lines_per_cpu_s"],
                "model_corpus": model,
                "tree": shape,
                "flake8_tree_s": round(flake8_s, 2),
                "flake8_findings": flake8_out,
                "flake8_baseline_s": round(baseline_s, 2),
                "plugin_overhead_s": round(flake8_s - baseline_s, 2),
                "plugin_own_s": round(own["run_s"] + own["import_s"], 2),
                "plugin_own_cpu_s": round(own["run_cpu_s"] + own["import_cpu_s"], 2),
                "plugin_own": own,
                "continuum_lint_tree_s": round(lint_s, 2),
                "continuum_lint_tree_cpu_s": round(lint_cpu_s, 2),
                "continuum_lint_findings": lint_out,
                "target_s": 5.0,
                "target_continuum_lint_tree_s": 1.0,
                "target_plugin_own_s": 0.5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
