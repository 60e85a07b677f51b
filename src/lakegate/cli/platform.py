"""``lakegate serve`` and ``lakegate db upgrade|current``: the platform service's commands.

``lakegate worker`` is a placeholder in this version (exit 2): runs execute in the
in-process executor of ``lakegate serve``. ``lakegate scheduler`` is
:mod:`lakegate.cli.scheduler`.
"""

from __future__ import annotations

from typing import Annotated

import typer

from lakegate.cli import tenants as tenant_commands
from lakegate.cli.common import Output, OutputOption, emit_json, stdout
from lakegate.errors import ConfigError

db_app = typer.Typer(help="The catalog database (tenants, jobs, runs...).", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.", min=1, max=65535)] = 8000,
    migrate: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="Run `db upgrade` before serving. Default: only on a SQLite catalog "
            "(the embedded default); run it once per release elsewhere.",
            show_default=False,
        ),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="uvicorn access/error log level.")
    ] = "info",
) -> None:
    """Serve the REST API (/api/v1, /openapi.json, /healthz, /readyz)."""
    import uvicorn

    from lakegate.api.app import create_app
    from lakegate.catalog import migrate as migrations
    from lakegate.catalog.session import normalize_database_url
    from lakegate.settings import get_settings

    settings = get_settings()
    is_sqlite = normalize_database_url(settings.database_url).get_backend_name() == "sqlite"
    if migrate if migrate is not None else is_sqlite:
        migrations.upgrade(settings.database_url)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=log_level.lower())


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Option("--revision", help="Target revision (default: the newest).")
    ] = "head",
    output: OutputOption = Output.table,
) -> None:
    """Migrate the catalog at $LAKEGATE_DATABASE_URL to the newest schema (idempotent)."""
    from lakegate.catalog import migrate as migrations
    from lakegate.settings import get_settings

    settings = get_settings()
    current = migrations.upgrade(settings.database_url, revision)
    if output is Output.json:
        emit_json({"revision": current, "head": migrations.head_revision()})
    else:
        stdout.print(f"catalog at revision {current}")


@db_app.command("current")
def db_current(output: OutputOption = Output.table) -> None:
    """Show the catalog's revision and whether it is the newest; exit 1 when behind."""
    from lakegate.catalog import migrate as migrations
    from lakegate.catalog.session import create_catalog_engine
    from lakegate.settings import get_settings

    engine = create_catalog_engine(get_settings().database_url)
    try:
        current = migrations.current_revision(engine)
    finally:
        engine.dispose()
    head = migrations.head_revision()
    if output is Output.json:
        emit_json({"revision": current, "head": head, "current": current == head})
    else:
        stdout.print(f"catalog at revision {current or 'none'} (newest: {head})")
    if current != head:
        raise typer.Exit(1)


def worker() -> None:
    """Not available in this version: runs execute in-process inside `lakegate serve`."""
    raise ConfigError(
        "lakegate worker is not available in this version: "
        "runs execute in-process inside `lakegate serve`"
    )


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``db``, ``tenant``, ``scheduler`` and the ``worker`` placeholder."""
    app.command("serve")(serve)
    app.add_typer(db_app, name="db")
    app.command("worker")(worker)
    from lakegate.cli.scheduler import scheduler  # the command lives with its options there

    app.command("scheduler")(scheduler)
    tenant_commands.register(app)
