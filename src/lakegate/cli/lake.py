"""``lakegate lake``: SAS URLs, lifecycle policies and listing of the lake."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lakegate.cli.common import LakeOption, Output, OutputOption, emit_json, load_settings, stdout

if TYPE_CHECKING:
    from lakegate.lake.lifecycle import LifecyclePolicy
    from lakegate.lake.storage import Lake
    from lakegate.settings import Settings

lake_app = typer.Typer(
    help="The lake: SAS URLs, lifecycle policies, listing.", no_args_is_help=True
)
lifecycle_app = typer.Typer(
    help="Lifecycle rules (tier to cool / archive, delete by age, per prefix).",
    no_args_is_help=True,
)
lake_app.add_typer(lifecycle_app, name="lifecycle")

RulesOption = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        help="YAML file with the `lifecycle:` rules. Default: $LAKEGATE_AZURE_LIFECYCLE_FILE.",
        show_default=False,
    ),
]


def _open_lake(lake: str | None) -> tuple[Settings, Lake]:
    from lakegate.lake.storage import Lake

    settings = load_settings(lake)
    return settings, Lake.from_url(settings.lake.url, settings)


def _rules(path: Path | None, default: str | None) -> LifecyclePolicy:
    from lakegate.errors import ConfigError
    from lakegate.lake.lifecycle import load_lifecycle

    chosen = path or (Path(default) if default else None)
    if chosen is None:
        raise ConfigError("--rules (or LAKEGATE_AZURE_LIFECYCLE_FILE) is required")
    return load_lifecycle(chosen)


@lake_app.command("sas")
def sas(
    path: Annotated[
        str,
        typer.Argument(
            help="Blob to share: a path under the lake root (orders/2026/01/02/x.parquet) "
            "or a full az://container/path URL."
        ),
    ],
    expires: Annotated[
        str, typer.Option("--expires", help="How long the URL stays valid: 30m, 1h, 7d.")
    ] = "1h",
    permissions: Annotated[
        str,
        typer.Option("--permissions", help="SAS permissions: r (read), w, d, t ... (letters)."),
    ] = "r",
    lake: LakeOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Print a time-limited URL for one blob of an Azure lake.

    With a token credential (service principal, managed identity) the URL carries a
    user-delegation SAS; with only an account key (or connection string), a service SAS.
    """
    from lakegate.errors import ConfigError
    from lakegate.lake.sas import parse_duration, read_url

    duration = parse_duration(expires)
    settings, root = _open_lake(lake)
    if "://" in path:
        target = path
    else:
        if not root.is_azure:
            raise ConfigError(f"lake {root.url}: SAS URLs exist only for Azure lakes (az://)")
        target = root.path(path)
    result = read_url(settings, target, duration, permissions)
    if output is Output.json:
        emit_json(
            {
                "url": result.url,
                "kind": result.kind,
                "expires_at": result.expires_at.isoformat(),
                "permissions": result.permissions,
                "container": result.container,
                "blob": result.blob,
            }
        )
        return
    # The URL alone on stdout, so `$(lakegate lake sas ...)` works in scripts.
    print(result.url)


@lake_app.command("ls")
def ls(
    prefix: Annotated[str, typer.Argument(help="Prefix under the lake root.")] = "",
    lake: LakeOption = None,
    output: OutputOption = Output.table,
) -> None:
    """List the files under a prefix of the lake (path, size, last modified)."""
    from lakegate.errors import StorageError

    _, root = _open_lake(lake)
    base = root.path(prefix)
    try:
        found = root.fs.find(base, detail=True) if root.fs.exists(base) else {}
    except OSError as exc:
        raise StorageError(f"lake {root.url}: cannot list {prefix or '/'} ({exc})") from exc
    rows = []
    strip = root.path().rstrip("/") + "/"
    for name in sorted(found):
        info = found[name]
        if info.get("type") == "directory":
            continue
        modified = info.get("mtime") or info.get("last_modified")
        rows.append(
            {"path": name.removeprefix(strip), "size": info.get("size"), "modified": modified}
        )
    if output is Output.json:
        emit_json(rows)
        return
    for row in rows:
        stdout.print(f"{row['size']:>12}  {row['path']}", highlight=False, markup=False)


@lifecycle_app.command("render")
def lifecycle_render(rules: RulesOption = None, lake: LakeOption = None) -> None:
    """Print the Azure management-policy JSON for the rules (prefixes start with the container)."""
    from lakegate.lake.lifecycle import render_management_policy

    settings, root = _open_lake(lake)
    emit_json(render_management_policy(_rules(rules, settings.azure.lifecycle_file), root))


@lifecycle_app.command("apply")
def lifecycle_apply(
    rules: RulesOption = None,
    lake: LakeOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Set the rules as the storage account's management policy (azure-mgmt-storage).

    Needs AZURE_SUBSCRIPTION_ID, LAKEGATE_AZURE_RESOURCE_GROUP, LAKEGATE_AZURE_STORAGE_ACCOUNT
    and an identity with Storage Account Contributor on the account.
    """
    from lakegate.lake.lifecycle import apply_management_policy, render_management_policy

    settings, root = _open_lake(lake)
    document = render_management_policy(_rules(rules, settings.azure.lifecycle_file), root)
    stored = apply_management_policy(document, settings)
    if output is Output.json:
        emit_json(stored)
        return
    count = len(document["policy"]["rules"])
    stdout.print(
        f"applied {count} lifecycle rule(s) to {settings.azure.storage_account}",
        highlight=False,
        markup=False,
    )


@lifecycle_app.command("run")
def lifecycle_run(
    rules: RulesOption = None,
    lake: LakeOption = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what the rules select; change nothing.")
    ] = False,
    output: OutputOption = Output.table,
) -> None:
    """Apply the rules to a local or non-Azure lake: delete, move to _archive/, report cool."""
    from lakegate.lake.lifecycle import run_lifecycle

    settings, root = _open_lake(lake)
    actions = run_lifecycle(root, _rules(rules, settings.azure.lifecycle_file), dry_run=dry_run)
    if output is Output.json:
        emit_json(
            {
                "dry_run": dry_run,
                "actions": [
                    {
                        "path": a.path,
                        "action": a.action.value,
                        "rule": a.rule,
                        "age_days": a.age_days,
                        "target": a.target,
                        "done": a.done,
                    }
                    for a in actions
                ],
            }
        )
        return
    for a in actions:
        verb = {"delete": "deleted", "archive": "archived", "cool": "cool (reported)"}[a.action]
        if dry_run:
            verb = f"would {a.action.value}"
        suffix = f" -> {a.target}" if a.target else ""
        stdout.print(
            f"[{a.rule}] {verb} {a.path}{suffix} (age {a.age_days} d)",
            highlight=False,
            markup=False,
        )
    if not actions:
        stdout.print("no file selected by the rules", highlight=False, markup=False)


def register(app: typer.Typer) -> None:
    """Add ``lakegate lake ...`` to the root app."""
    app.add_typer(lake_app, name="lake")
