"""``lakegate tenant ...``: bootstrap tenants and API keys from the command line.

The same services as ``/api/v1/tenants`` (no second copy of the logic), on the catalog at
``$LAKEGATE_DATABASE_URL``; useful before any admin client exists (first deployment, a
Kubernetes Job). Changes are audited with the actor ``cli``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lakegate.cli.common import Output, OutputOption, emit_json, stdout

tenant_app = typer.Typer(help="Tenants and their API keys (platform admin).", no_args_is_help=True)
ACTOR = "cli"


def _tenant_view(tenant: Any) -> dict[str, Any]:
    from lakegate.tenants.service import lake_prefix

    return {
        "id": tenant.id,
        "slug": tenant.slug,
        "name": tenant.name,
        "environment": tenant.environment,
        "status": tenant.status,
        "lake_prefix": lake_prefix(tenant),
    }


def _catalog() -> Any:
    from lakegate.catalog.session import Catalog
    from lakegate.settings import get_settings

    return Catalog.from_settings(get_settings())


@tenant_app.command("create")
def create(
    slug: Annotated[str, typer.Argument(help="Unique lowercase slug (names storage paths).")],
    name: Annotated[
        str | None, typer.Option("--name", help="Display name (default: slug).")
    ] = None,
    environment: Annotated[
        str, typer.Option("--environment", "-e", help="prod or sandbox.")
    ] = "prod",
    output: OutputOption = Output.table,
) -> None:
    """Create a tenant (exit 2 when the slug is invalid or taken)."""
    from lakegate.tenants import service

    catalog = _catalog()
    try:
        with catalog.session() as session:
            tenant = service.create_tenant(
                session, slug=slug, name=name or slug, environment=environment, actor=ACTOR
            )
            view = _tenant_view(tenant)
    finally:
        catalog.dispose()
    if output is Output.json:
        emit_json(view)
    else:
        stdout.print(f"tenant {view['slug']} ({view['environment']}) id {view['id']}")


@tenant_app.command("list")
def list_(output: OutputOption = Output.table) -> None:
    """List every tenant."""
    from lakegate.tenants import service

    catalog = _catalog()
    try:
        with catalog.session() as session:
            views = [_tenant_view(t) for t in service.list_tenants(session)]
    finally:
        catalog.dispose()
    if output is Output.json:
        emit_json(views)
        return
    for view in views:
        stdout.print(f"{view['slug']}\t{view['environment']}\t{view['status']}\t{view['id']}")


@tenant_app.command("create-key")
def create_key(
    tenant: Annotated[str, typer.Argument(help="Tenant id or slug.")],
    name: Annotated[str, typer.Option("--name", help="What the key is for.")] = "cli",
    role: Annotated[str, typer.Option("--role", help="admin, operator or viewer.")] = "viewer",
    output: OutputOption = Output.table,
) -> None:
    """Create an API key and print its token once (it is stored hashed)."""
    from lakegate.tenants import service

    catalog = _catalog()
    try:
        with catalog.session() as session:
            found = service.get_tenant(session, tenant)
            key, token = service.create_api_key(session, found, name=name, role=role, actor=ACTOR)
            view = {"id": key.id, "prefix": key.prefix, "role": key.role, "token": token}
    finally:
        catalog.dispose()
    if output is Output.json:
        emit_json(view)
    else:
        # the token goes to stdout alone so that `$(lakegate tenant create-key ...)` captures it
        stdout.print(token, highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add ``tenant`` to the root app."""
    app.add_typer(tenant_app, name="tenant")
