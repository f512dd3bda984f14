"""``continuum observer`` (the Observer alone, with uvicorn) and ``continuum dev``
(embedded Postgres + a worker + the Observer, in one process).

The Observer has no authentication of its own: it expects the host's in front of it.
Binding to anything but a loopback address therefore needs ``--allow-remote``.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections.abc import Callable
from typing import Any

import click

from continuum.cli.options import dsn_option, errors_as_one_line
from continuum.cli.worker_commands import definitions_of, load_module
from continuum.client import Client
from continuum.db.dsn import describe_dsn, redact

DEFAULT_PORT = 8233
SECRET_ENV = "CONTINUUM_OBSERVER_SECRET"


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, allow_remote: bool) -> None:
    """Refuse a non-loopback ``host`` unless the operator said ``--allow-remote``."""
    if not allow_remote and not is_loopback(host):
        raise click.ClickException(
            f"refusing to serve the Observer on {host}: it has no authentication of its own; "
            "put your own auth in front of it and pass --allow-remote, or use --host 127.0.0.1"
        )


def _serve_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--allow-remote",
        is_flag=True,
        help="Allow a non-loopback --host (your own authentication must be in front).",
    )(fn)
    fn = click.option(
        "--port",
        type=click.IntRange(0, 65535),
        default=DEFAULT_PORT,
        show_default=True,
        help="Port of the Observer.",
    )(fn)
    fn = click.option(
        "--host", default="127.0.0.1", show_default=True, help="Address the Observer binds."
    )(fn)
    return fn


def _serve(client: Client, host: str, port: int, on_ready: Callable[[str], None]) -> None:
    import uvicorn

    from continuum.observer import app as observer_app

    application = observer_app(client, secret=os.environ.get(SECRET_ENV) or None)
    config = uvicorn.Config(application, host=host, port=port, log_level="warning")
    server = uvicorn.Server(config)

    def announce() -> None:
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            bound = port
            for srv in getattr(server, "servers", []):
                for sock in srv.sockets:
                    bound = sock.getsockname()[1]
            shown = f"[{host}]" if ":" in host else host
            on_ready(f"http://{shown}:{bound}/")

    threading.Thread(target=announce, name="observer-announce", daemon=True).start()
    server.run()


@click.command("observer")
@click.argument("modules", nargs=-1, metavar="[MODULE...]")
@dsn_option
@_serve_options
def observer_command(
    modules: tuple[str, ...], dsn: str | None, host: str, port: int, allow_remote: bool
) -> None:
    """Serve the Observer web UI for a database (uvicorn) until Ctrl-C.

    MODULE... (optional) are imported so that run pages can show the effects of workflows
    that are not in the build manifest. Set $CONTINUUM_OBSERVER_SECRET to sign CSRF
    tokens with a fixed secret.
    """
    check_bind(host, allow_remote)
    for module in modules:
        load_module(module)
    with errors_as_one_line(), Client(dsn) as client:
        target = client.dsn  # connects and checks the schema before serving
        _serve(
            client,
            host,
            port,
            lambda url: click.echo(f"Observer for {describe_dsn(target)}: {url}", err=False),
        )
    click.echo("observer stopped", err=True)


@click.command("dev")
@click.argument("modules", nargs=-1, metavar="[MODULE...]")
@dsn_option
@click.option("--max-runs", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--max-activities", type=click.IntRange(min=1), default=8, show_default=True)
@_serve_options
def dev_command(
    modules: tuple[str, ...],
    dsn: str | None,
    max_runs: int,
    max_activities: int,
    host: str,
    port: int,
    allow_remote: bool,
) -> None:
    """Development server: embedded Postgres (migrated), a worker for MODULE... and the
    Observer (its URL is printed), until Ctrl-C."""
    from continuum.db.embedded import start_embedded
    from continuum.db.migrate import migrate
    from continuum.runtime.worker import Worker

    check_bind(host, allow_remote)
    loaded = [load_module(m) for m in modules]
    flows, acts = definitions_of(loaded)
    with errors_as_one_line():
        target = dsn or start_embedded()
        report = migrate(target)
    for migration_id in report.applied:
        click.echo(f"applied {migration_id}", err=True)
    click.echo(f"database: {redact(target)}", err=True)
    with errors_as_one_line(), Client(target) as client:
        worker = Worker(
            client,
            workflows=flows,
            activities=acts,
            max_runs=max_runs,
            max_activities=max_activities,
        )
        with worker:
            click.echo(
                f"worker {worker.id}: {len(flows)} workflow(s), {len(acts)} "
                f"activit{'y' if len(acts) == 1 else 'ies'}",
                err=True,
            )

            def ready(url: str) -> None:
                click.echo(f"Observer: {url}")
                click.echo("Ctrl-C to stop", err=True)

            # uvicorn turns SIGINT/SIGTERM into a graceful stop; then the worker stops.
            _serve(client, host, port, ready)
    click.echo("dev server stopped", err=True)


__all__ = ["check_bind", "dev_command", "is_loopback", "observer_command"]
