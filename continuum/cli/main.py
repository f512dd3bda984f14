"""``continuum``: build, lint, migrate, run workers, inspect runs, and the demo.

Every command that touches the database takes ``--dsn`` (else
``$CONTINUUM_DATABASE_URL``, else the embedded server under ``./.continuum``).
Errors print as one line on stderr with a non-zero exit code; set
``CONTINUUM_DEBUG=1`` to see the traceback instead.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from continuum import __version__
from continuum.errors import ContinuumError

# (module, attribute) of each subcommand, imported lazily so that `continuum --help`
# stays fast and a broken optional part cannot take the whole CLI down.
_COMMANDS: dict[str, tuple[str, str]] = {
    "build": ("continuum.cli.build_command", "build_command"),
    "lint": ("continuum_lint.cli", "lint"),
    "migrate": ("continuum.cli.db_commands", "migrate_command"),
    "partitions": ("continuum.cli.db_commands", "partitions_group"),
    "worker": ("continuum.cli.worker_commands", "worker_command"),
    "dev": ("continuum.cli.observer_commands", "dev_command"),
    "observer": ("continuum.cli.observer_commands", "observer_command"),
    "runs": ("continuum.cli.worker_commands", "runs_group"),
    "schedules": ("continuum.cli.flow_commands", "schedules_group"),
    "queues": ("continuum.cli.flow_commands", "queues_group"),
    "demo": ("continuum.cli.demo", "demo_command"),
    "audit": ("continuum.cli.version_commands", "audit_command"),
    "gc-versions": ("continuum.cli.version_commands", "gc_versions_command"),
    "replay": ("continuum.cli.version_commands", "replay_command"),
    "archive-continued-chains": ("continuum.cli.version_commands", "archive_command"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in _COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = _COMMANDS.get(name)
        if target is None:
            return None
        try:
            module = importlib.import_module(target[0])
        except ModuleNotFoundError as exc:
            if exc.name and target[0].startswith(exc.name):
                return None  # that part of Continuum is not in this build
            raise
        command = getattr(module, target[1], None)
        if isinstance(command, click.Group):
            for extra in _extra_subcommands(name):
                command.add_command(extra)
        return command if isinstance(command, click.Command) else None


# Groups whose subcommands live in more than one module: (module) adding to group name.
_EXTENSIONS: dict[str, tuple[str, ...]] = {"runs": ("continuum.cli.message_commands",)}


def _extra_subcommands(group: str) -> list[click.Command]:
    found: list[click.Command] = []
    for module_name in _EXTENSIONS.get(group, ()):
        module = importlib.import_module(module_name)
        found.extend(getattr(module, "SUBCOMMANDS", {}).get(group, []))
    return found


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="continuum")
def cli() -> None:
    """Durable workflows for Python on PostgreSQL."""


def main(argv: list[str] | None = None) -> Any:
    """Console entry point: one-line errors, never a traceback (unless CONTINUUM_DEBUG=1)."""
    # Like other tools that import user modules (celery, uvicorn), resolve them from CWD.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    debug = os.environ.get("CONTINUUM_DEBUG") == "1"
    try:
        return cli.main(args=argv, prog_name="continuum", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except ContinuumError as exc:
        if debug:
            raise
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:
        if debug:
            raise
        text = str(exc).splitlines()[0] if str(exc) else ""
        click.echo(f"error: {type(exc).__name__}: {text} (CONTINUUM_DEBUG=1 for details)", err=True)
        sys.exit(2)
