"""Lifecycle rules: tier to cool, archive and delete lake files by age, per prefix.

One YAML file (``lifecycle:``) drives two executors:

* on Azure, :func:`render_management_policy` produces the storage account's
  management-policy JSON and :func:`apply_management_policy` sends it through
  ``azure-mgmt-storage`` (``management_policies.create_or_update``), so Azure runs it;
* on any other lake (local folder, Azurite, another fsspec store),
  :func:`run_lifecycle` applies the same rules itself: files selected by ``delete`` are
  deleted; files selected by ``archive`` are moved to ``_archive/<same path>`` (archived
  blobs are offline on Azure too, so they leave the readable dataset); files selected by
  ``cool`` are only reported (cool data stays online on Azure; a folder has no tier).

Ages follow Azure's condition ``daysAfterModificationGreaterThan``: a file qualifies
when it was last modified *more than* N days ago. When several rules or actions select a
file, the most drastic wins (delete, then archive, then cool), as on Azure.

.. code-block:: yaml

    lifecycle:
      - name: ordersTiering
        prefix: orders/
        cool_after_days: 30
        archive_after_days: 90
        delete_after_days: 365
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from lakegate.errors import ConfigError, MultipleConfigError, StorageError

if TYPE_CHECKING:
    from lakegate.lake.storage import Lake
    from lakegate.settings import Settings

MAX_RULES = 100
"""Azure accepts at most 100 rules in a management policy."""
ARCHIVE_DIR = "_archive"
"""Where ``lifecycle run`` moves archived files on a non-Azure lake."""


class LifecycleRule(BaseModel):
    """One rule: files under ``prefix`` change tier / are deleted after N days."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9]{1,256}$")
    """Unique rule name (Azure allows letters and digits only)."""
    prefix: str = ""
    """Path prefix under the lake root (``orders/``); empty: the whole lake."""
    enabled: bool = True
    cool_after_days: int | None = Field(default=None, ge=0)
    archive_after_days: int | None = Field(default=None, ge=0)
    delete_after_days: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _check_actions(self) -> LifecycleRule:
        days = [
            (label, value)
            for label, value in (
                ("cool_after_days", self.cool_after_days),
                ("archive_after_days", self.archive_after_days),
                ("delete_after_days", self.delete_after_days),
            )
            if value is not None
        ]
        if not days:
            raise ValueError(
                "give at least one of cool_after_days, archive_after_days, delete_after_days"
            )
        for (a, da), (b, db) in itertools.pairwise(days):
            if da >= db:
                raise ValueError(f"{a} ({da}) must be less than {b} ({db})")
        if self.prefix.startswith("/") or ".." in self.prefix.split("/"):
            raise ValueError(f"prefix {self.prefix!r} must be relative to the lake root")
        return self


class LifecyclePolicy(BaseModel):
    """The rules of one lake (at most 100, unique names)."""

    model_config = ConfigDict(extra="forbid")

    rules: list[LifecycleRule] = Field(min_length=1, max_length=MAX_RULES)

    @model_validator(mode="after")
    def _unique_names(self) -> LifecyclePolicy:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.name in seen:
                raise ValueError(f"rule name {rule.name!r} is used twice")
            seen.add(rule.name)
        return self


def parse_lifecycle(data: Any, source: str = "lifecycle") -> LifecyclePolicy:
    """Validate ``lifecycle:`` data (a list of rules, or ``{rules: [...]}``)."""
    if isinstance(data, dict) and "lifecycle" in data:
        data = data["lifecycle"]
    if isinstance(data, list):
        data = {"rules": data}
    try:
        return LifecyclePolicy.model_validate(data)
    except ValidationError as exc:
        raw_rules = data.get("rules") if isinstance(data, dict) else None
        problems = []
        for err in exc.errors():
            loc = list(err["loc"])
            where = "lifecycle"
            if loc[:1] == ["rules"] and len(loc) > 1 and isinstance(loc[1], int):
                idx = loc[1]
                name = None
                if isinstance(raw_rules, list) and isinstance(raw_rules[idx], dict):
                    name = raw_rules[idx].get("name")
                where = f"rule {idx + 1}" + (f" ({name})" if name else "")
                if loc[2:]:
                    where += f", field {'.'.join(str(p) for p in loc[2:])}"
            elif loc:
                where = f"field {'.'.join(str(p) for p in loc)}"
            msg = str(err["msg"]).removeprefix("Value error, ")
            problems.append(f"{source}: {where}: {msg}")
        raise MultipleConfigError(problems) from None


def load_lifecycle(path: Path) -> LifecyclePolicy:
    """Read and validate a lifecycle YAML file; errors name the file, rule and field."""
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: lifecycle file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    return parse_lifecycle(data, str(path))


def _lake_container_prefix(lake: Lake) -> tuple[str, str]:
    container, _, base = lake.root.strip("/").partition("/")
    container = container.split("@", 1)[0]
    return container, base


def render_management_policy(policy: LifecyclePolicy, lake: Lake) -> dict[str, Any]:
    """The Azure management-policy document (``{"policy": {"rules": [...]}}``).

    Each prefix is given as Azure wants it, starting with the container name
    (``raw-data/tenant-a/prod/orders/``) for a lake rooted at ``az://raw-data/tenant-a/prod``.
    """
    if not lake.is_azure:
        raise ConfigError(f"lake {lake.url}: management policies exist only on Azure (az://)")
    container, base = _lake_container_prefix(lake)
    rules = []
    for rule in policy.rules:
        prefix = "/".join(p for p in (container, base, rule.prefix.lstrip("/")) if p)
        if not rule.prefix and not base:
            prefix += "/"
        actions: dict[str, Any] = {}
        if rule.cool_after_days is not None:
            actions["tierToCool"] = {"daysAfterModificationGreaterThan": rule.cool_after_days}
        if rule.archive_after_days is not None:
            actions["tierToArchive"] = {"daysAfterModificationGreaterThan": rule.archive_after_days}
        if rule.delete_after_days is not None:
            actions["delete"] = {"daysAfterModificationGreaterThan": rule.delete_after_days}
        rules.append(
            {
                "enabled": rule.enabled,
                "name": rule.name,
                "type": "Lifecycle",
                "definition": {
                    "filters": {"blobTypes": ["blockBlob"], "prefixMatch": [prefix]},
                    "actions": {"baseBlob": actions},
                },
            }
        )
    return {"policy": {"rules": rules}}


def apply_management_policy(
    document: dict[str, Any],
    settings: Settings,
    *,
    credential: Any = None,
    base_url: str | None = None,
    **client_kwargs: Any,
) -> dict[str, Any]:
    """PUT the policy on the storage account through ``azure-mgmt-storage``.

    Needs ``AZURE_SUBSCRIPTION_ID``, ``LAKEGATE_AZURE_RESOURCE_GROUP`` and the account
    name; the identity needs ``Storage Account Contributor`` (or Owner) on the account.
    ``base_url`` points the client at another ARM endpoint (sovereign clouds, tests).
    Returns the policy the service stored.
    """
    from azure.core.exceptions import AzureError
    from azure.mgmt.storage import StorageManagementClient
    from azure.mgmt.storage.models import ManagementPolicy

    from lakegate.lake.azure import resolve_access, token_credential

    azure = settings.azure
    missing = [
        name
        for name, value in (
            ("AZURE_SUBSCRIPTION_ID", azure.subscription_id),
            ("LAKEGATE_AZURE_RESOURCE_GROUP", azure.resource_group),
            ("LAKEGATE_AZURE_STORAGE_ACCOUNT", azure.storage_account),
        )
        if not value
    ]
    if missing:
        raise ConfigError(f"lifecycle apply needs {', '.join(missing)}")
    assert azure.subscription_id and azure.resource_group and azure.storage_account
    if credential is None:
        credential = token_credential(resolve_access(azure))
    kwargs: dict[str, Any] = dict(client_kwargs)
    if base_url:
        kwargs["base_url"] = base_url
    client = StorageManagementClient(credential, azure.subscription_id, **kwargs)
    try:
        result = client.management_policies.create_or_update(
            azure.resource_group,
            azure.storage_account,
            "default",
            ManagementPolicy({"properties": document}),
        )
    except AzureError as exc:
        reason = getattr(exc, "reason", None) or type(exc).__name__
        status = getattr(exc, "status_code", None)
        raise StorageError(
            f"lifecycle apply on {azure.storage_account}: {reason}"
            + (f" (HTTP {status})" if status else "")
        ) from exc
    finally:
        client.close()
    return dict(result.as_dict()) if hasattr(result, "as_dict") else dict(result)


class Action(StrEnum):
    """What a rule does to a file."""

    cool = "cool"
    archive = "archive"
    delete = "delete"


_RANK = {Action.cool: 1, Action.archive: 2, Action.delete: 3}


@dataclass(frozen=True)
class LifecycleAction:
    """One file selected by the rules (done, or planned with ``dry_run``)."""

    path: str
    """Path relative to the lake root."""
    action: Action
    rule: str
    age_days: float
    target: str | None = None
    """Where an archived file went (relative to the lake root)."""
    done: bool = False


def _mtime(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "last_modified", "LastModified", "updated", "created"):
        value = info.get(key)
        if value is None:
            continue
        if isinstance(value, int | float):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, str):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def _choose(rules: list[LifecycleRule], rel: str, age: float) -> tuple[Action, str] | None:
    best: tuple[Action, str] | None = None
    for rule in rules:
        if not rule.enabled or not rel.startswith(rule.prefix.lstrip("/")):
            continue
        for action, days in (
            (Action.delete, rule.delete_after_days),
            (Action.archive, rule.archive_after_days),
            (Action.cool, rule.cool_after_days),
        ):
            if days is not None and age > days:
                if best is None or _RANK[action] > _RANK[best[0]]:
                    best = (action, rule.name)
                break
    return best


def run_lifecycle(
    lake: Lake, policy: LifecyclePolicy, *, dry_run: bool = False, now: datetime | None = None
) -> list[LifecycleAction]:
    """Apply the rules to the files of ``lake`` (see the module docstring for semantics).

    With ``dry_run`` nothing changes; the returned list says what would happen. Files
    already in ``_archive/`` are left alone.
    """
    now = now or datetime.now(UTC)
    fs = lake.fs
    root = lake.path().rstrip("/")
    try:
        found = fs.find(root, detail=True) if fs.exists(root) else {}
    except OSError as exc:
        raise StorageError(f"lake {lake.url}: cannot list files ({exc})") from exc
    actions: list[LifecycleAction] = []
    for path in sorted(found):
        info = found[path]
        if info.get("type") == "directory":
            continue
        rel = path[len(root) :].lstrip("/") if path.startswith(root) else path
        if rel.split("/", 1)[0] == ARCHIVE_DIR:
            continue
        modified = _mtime(info)
        if modified is None:
            continue
        age = (now - modified).total_seconds() / 86400
        chosen = _choose(policy.rules, rel, age)
        if chosen is None:
            continue
        action, rule = chosen
        target = f"{ARCHIVE_DIR}/{rel}" if action is Action.archive else None
        done = False
        if not dry_run and action is not Action.cool:
            try:
                if action is Action.delete:
                    fs.rm_file(path)
                else:
                    dest = lake.path(ARCHIVE_DIR, rel)
                    fs.makedirs(dest.rsplit("/", 1)[0], exist_ok=True)
                    fs.mv(path, dest)
            except OSError as exc:
                raise StorageError(f"lifecycle {action.value} {rel}: {exc}") from exc
            done = True
        actions.append(LifecycleAction(rel, action, rule, round(age, 2), target, done))
    return actions
