"""REST sources: a YAML file holding dlt's ``rest_api`` config; a job loads one resource of it.

The file is dlt's own ``RESTAPIConfig`` written as YAML (``client``,
``resource_defaults``, ``resources``), so pagination, authentication and incremental
cursors are dlt's. A ``token`` in the source's secrets (``[sources.<name>] token``) is
sent as a bearer token unless the file configures ``client.auth`` itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from lakegate.errors import ConfigError
from lakegate.ingest.models import IngestJob
from lakegate.secrets.credentials import SourceCredentials

if TYPE_CHECKING:
    from dlt.extract.resource import DltResource


def load_endpoint_config(path: str | Path) -> dict[str, Any]:
    """Read and minimally check a ``rest_api`` YAML file (one-line errors naming the file)."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"{file}: endpoint_config file not found")
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{file}:{where} not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: expected a mapping with client and resources")
    client = data.get("client")
    if not isinstance(client, dict) or not client.get("base_url"):
        raise ConfigError(f"{file}: client.base_url is missing")
    if not isinstance(data.get("resources"), list) or not data["resources"]:
        raise ConfigError(f"{file}: resources must be a non-empty list")
    return data


def _resource_name(item: Any) -> str | None:
    if isinstance(item, str):
        return item
    if isinstance(item, dict):
        name = item.get("name")
        return str(name) if name is not None else None
    return None


def rest_resource(job: IngestJob, creds: SourceCredentials) -> DltResource:
    """The dlt resource named ``job.table_name`` from the job's endpoint_config file."""
    from dlt.sources.rest_api import rest_api_resources

    if not job.endpoint_config:
        raise ConfigError(f"job {job.job_id}: rest_api jobs need endpoint_config (a YAML file)")
    config = load_endpoint_config(job.endpoint_config)
    names = [_resource_name(r) for r in config["resources"]]
    if job.table_name not in names:
        known = ", ".join(n for n in names if n)
        raise ConfigError(
            f"{job.endpoint_config}: no resource {job.table_name!r} (resources: {known})"
        )
    client = dict(config["client"])
    if creds.token and "auth" not in client:
        client["auth"] = {"type": "bearer", "token": creds.token}
    config = {**config, "client": client}
    resources = rest_api_resources(config)  # type: ignore[arg-type]
    for resource in resources:
        if resource.name == job.table_name:
            return resource
    raise ConfigError(f"{job.endpoint_config}: resource {job.table_name!r} was not built")
