"""Azure Blob Storage / ADLS Gen2: credentials, clients, blob metadata and index tags.

One function decides how Lakegate authenticates to the storage account, and every
consumer gets the same answer in its own dialect:

* :func:`storage_options` — keyword arguments of ``adlfs.AzureBlobFileSystem`` (what
  :class:`~lakegate.lake.storage.Lake`, DuckDB and the quality engine use);
* :func:`dlt_destination_options` — ``credentials`` (dlt's ``AzureCredentials`` field
  names) and ``kwargs`` (extra adlfs arguments) for dlt's filesystem destination;
* :func:`blob_service_client` — the azure-storage-blob client (tags, SAS, lifecycle).

Credentials are tried in this order (the first one configured wins):

1. connection string (``LAKEGATE_AZURE_CONNECTION_STRING``), or account name + key;
2. account name + SAS token;
3. service principal (``AZURE_CLIENT_ID`` / ``AZURE_CLIENT_SECRET`` / ``AZURE_TENANT_ID``);
4. ``DefaultAzureCredential`` (managed identity, workload identity, Azure CLI) when only
   the account name is given.

``blob_endpoint`` overrides ``https://<account>.blob.core.windows.net`` (Azurite, sovereign
clouds). adlfs always speaks HTTPS to ``account_host``, so a plain-HTTP endpoint (Azurite)
is reached through a connection string built here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from lakegate.errors import ConfigError, StorageError
from lakegate.observability.redact import register_secret

if TYPE_CHECKING:
    from lakegate.lake.storage import Lake
    from lakegate.settings import AzureSettings, Settings

METADATA_KEYS = ("tenant_id", "job_id", "run_id", "environment", "source")
"""Keys written as blob metadata (and index tags) on every file the platform writes."""

_TAG_VALUE_ALLOWED = re.compile(r"[^0-9A-Za-z +\-./:=_]")
_METADATA_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AuthMethod(StrEnum):
    """How Lakegate authenticates to the storage account (in order of preference)."""

    connection_string = "connection_string"
    account_key = "account_key"
    sas_token = "sas_token"  # noqa: S105 - a method name, not a secret
    service_principal = "service_principal"
    default_credential = "default_credential"


@dataclass(frozen=True)
class AzureAccess:
    """The resolved way to reach one storage account (secrets already registered)."""

    method: AuthMethod
    account_name: str
    blob_url: str
    """Account blob endpoint, e.g. ``https://acct.blob.core.windows.net`` or Azurite's
    ``http://127.0.0.1:10000/devstoreaccount1``."""
    account_key: str | None = None
    sas_token: str | None = None
    connection_string: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    tenant_id: str | None = None

    @property
    def is_https(self) -> bool:
        """True when the endpoint is HTTPS (token credentials refuse plain HTTP)."""
        return self.blob_url.startswith("https://")

    @property
    def uses_token(self) -> bool:
        """True for Entra ID (token) authentication: user-delegation SAS is possible."""
        return self.method in (AuthMethod.service_principal, AuthMethod.default_credential)


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    raw = raw.strip()
    if raw:
        register_secret(raw)
    return raw or None


def parse_connection_string(conn_str: str) -> dict[str, str]:
    """Key/value pairs of an Azure Storage connection string (keys as written)."""
    pairs: dict[str, str] = {}
    for part in conn_str.strip().strip(";").split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ConfigError(
                "LAKEGATE_AZURE_CONNECTION_STRING: expected key=value pairs separated by ';'"
            )
        pairs[key.strip()] = value.strip()
    return pairs


def _blob_url_from_connection_string(pairs: Mapping[str, str]) -> str:
    if pairs.get("BlobEndpoint"):
        return pairs["BlobEndpoint"].rstrip("/")
    if pairs.get("UseDevelopmentStorage", "").lower() == "true":
        return "http://127.0.0.1:10000/devstoreaccount1"
    scheme = pairs.get("DefaultEndpointsProtocol", "https")
    suffix = pairs.get("EndpointSuffix", "core.windows.net")
    return f"{scheme}://{pairs['AccountName']}.blob.{suffix}"


def resolve_access(azure: AzureSettings) -> AzureAccess:
    """Pick the first configured credential (see the module docstring for the order).

    Raises :class:`ConfigError` naming the settings to set when nothing is configured.
    """
    conn = _secret(azure.connection_string)
    if conn:
        pairs = parse_connection_string(conn)
        if "AccountName" not in pairs and pairs.get("UseDevelopmentStorage", "") != "true":
            raise ConfigError("LAKEGATE_AZURE_CONNECTION_STRING: AccountName is missing")
        name = pairs.get("AccountName", "devstoreaccount1")
        key = pairs.get("AccountKey")
        sas = pairs.get("SharedAccessSignature")
        for value in (key, sas):
            register_secret(value)
        return AzureAccess(
            method=AuthMethod.connection_string,
            account_name=name,
            blob_url=_blob_url_from_connection_string(pairs),
            account_key=key,
            sas_token=sas.lstrip("?") if sas else None,
            connection_string=conn,
        )
    name = (azure.storage_account or "").strip()
    if not name:
        raise ConfigError(
            "Azure lake: set LAKEGATE_AZURE_STORAGE_ACCOUNT (with a key, SAS token, service "
            "principal or managed identity) or LAKEGATE_AZURE_CONNECTION_STRING"
        )
    blob_url = (azure.blob_endpoint or f"https://{name}.blob.core.windows.net").rstrip("/")
    if not urlsplit(blob_url).netloc:
        raise ConfigError(f"LAKEGATE_AZURE_BLOB_ENDPOINT: {blob_url!r} is not an http(s) URL")
    key = _secret(azure.storage_key)
    if key:
        return AzureAccess(AuthMethod.account_key, name, blob_url, account_key=key)
    sas = _secret(azure.sas_token)
    if sas:
        return AzureAccess(AuthMethod.sas_token, name, blob_url, sas_token=sas.lstrip("?"))
    client_secret = _secret(azure.client_secret)
    if azure.client_id and client_secret and azure.tenant_id:
        return AzureAccess(
            AuthMethod.service_principal,
            name,
            blob_url,
            client_id=azure.client_id,
            client_secret=client_secret,
            tenant_id=azure.tenant_id,
        )
    return AzureAccess(AuthMethod.default_credential, name, blob_url)


def _http_connection_string(access: AzureAccess) -> str:
    """A connection string for a plain-HTTP endpoint (adlfs only builds https URLs)."""
    parts = [f"AccountName={access.account_name}", f"BlobEndpoint={access.blob_url}"]
    if access.account_key:
        parts.insert(0, "DefaultEndpointsProtocol=http")
        parts.append(f"AccountKey={access.account_key}")
    elif access.sas_token:
        parts.append(f"SharedAccessSignature={access.sas_token}")
    else:
        raise ConfigError(
            f"LAKEGATE_AZURE_BLOB_ENDPOINT {access.blob_url} is plain HTTP: token credentials "
            "need HTTPS; use an account key, a SAS token or a connection string"
        )
    return ";".join(parts)


def _account_host(access: AzureAccess) -> str | None:
    default = f"https://{access.account_name}.blob.core.windows.net"
    if access.blob_url == default:
        return None
    parts = urlsplit(access.blob_url)
    return f"{parts.netloc}{parts.path}".rstrip("/")


def storage_options(settings: Settings) -> dict[str, Any]:
    """fsspec/adlfs storage options for the configured Azure account.

    The result is given to ``fsspec.filesystem("az", **options)`` and to DuckDB's fsspec
    registration; it holds secrets, so never print it.
    """
    access = resolve_access(settings.azure)
    if access.connection_string:
        return {"connection_string": access.connection_string}
    if not access.is_https:
        return {"connection_string": _http_connection_string(access)}
    options: dict[str, Any] = {"account_name": access.account_name}
    host = _account_host(access)
    if host:
        options["account_host"] = host
    if access.method is AuthMethod.account_key:
        options["account_key"] = access.account_key
    elif access.method is AuthMethod.sas_token:
        options["sas_token"] = access.sas_token
    elif access.method is AuthMethod.service_principal:
        options.update(
            client_id=access.client_id,
            client_secret=access.client_secret,
            tenant_id=access.tenant_id,
        )
    else:
        # adlfs builds (and refreshes) its own DefaultAzureCredential when anon is False.
        options["anon"] = False
    return options


def dlt_destination_options(settings: Settings) -> dict[str, Any]:
    """Arguments for ``dlt.destinations.filesystem(bucket_url=..., **options)``.

    ``credentials`` uses dlt's ``AzureCredentials`` field names
    (``azure_storage_account_name``, ``azure_storage_account_key``,
    ``azure_storage_sas_token``, ``azure_client_id/secret``, ``azure_tenant_id``,
    ``azure_account_host``); ``kwargs`` carries what dlt has no field for (a connection
    string, needed for plain-HTTP endpoints such as Azurite) straight to adlfs, where a
    connection string takes precedence over the other arguments.
    """
    access = resolve_access(settings.azure)
    creds: dict[str, Any] = {"azure_storage_account_name": access.account_name}
    kwargs: dict[str, Any] = {}
    host = _account_host(access)
    if access.connection_string:
        kwargs["connection_string"] = access.connection_string
    elif not access.is_https:
        kwargs["connection_string"] = _http_connection_string(access)
    elif host:
        creds["azure_account_host"] = host
    if access.account_key:
        creds["azure_storage_account_key"] = access.account_key
    elif access.sas_token:
        creds["azure_storage_sas_token"] = access.sas_token
    elif access.method is AuthMethod.service_principal:
        creds.update(
            azure_client_id=access.client_id,
            azure_client_secret=access.client_secret,
            azure_tenant_id=access.tenant_id,
        )
    result: dict[str, Any] = {"credentials": creds}
    if kwargs:
        result["kwargs"] = kwargs
    return result


def token_credential(access: AzureAccess) -> Any:
    """The azure-identity credential for token authentication (service principal or default)."""
    from azure.identity import ClientSecretCredential, DefaultAzureCredential

    if access.method is AuthMethod.service_principal:
        assert access.tenant_id and access.client_id and access.client_secret
        return ClientSecretCredential(access.tenant_id, access.client_id, access.client_secret)
    return DefaultAzureCredential()


def blob_service_client(settings: Settings, *, credential: Any = None, **client_kwargs: Any) -> Any:
    """A sync ``BlobServiceClient`` for the configured account.

    ``credential`` overrides the configured one (a token credential in tests, or one the
    caller already holds); ``client_kwargs`` go to the client (``connection_verify``...).
    """
    from azure.storage.blob import BlobServiceClient

    access = resolve_access(settings.azure)
    if credential is not None:
        return BlobServiceClient(access.blob_url, credential=credential, **client_kwargs)
    if access.connection_string:
        return BlobServiceClient.from_connection_string(access.connection_string, **client_kwargs)
    if access.account_key:
        cred: Any = {"account_name": access.account_name, "account_key": access.account_key}
        return BlobServiceClient(access.blob_url, credential=cred, **client_kwargs)
    if access.sas_token:
        return BlobServiceClient(f"{access.blob_url}?{access.sas_token}", **client_kwargs)
    return BlobServiceClient(access.blob_url, credential=token_credential(access), **client_kwargs)


def split_blob_path(path: str) -> tuple[str, str]:
    """(container, blob name) of an fsspec path or URL.

    Accepts ``container/dir/file``, ``az://container/dir/file`` and
    ``abfss://container@account.dfs.core.windows.net/dir/file``.
    """
    rest = path.split("://", 1)[1] if "://" in path else path
    container, _, blob = rest.strip("/").partition("/")
    container = container.split("@", 1)[0]
    if not container or not blob:
        raise ConfigError(f"{path!r} is not a blob path (container/name)")
    return container, blob


def _tag_value(value: str) -> str:
    # Index tag values allow only letters, digits, space and + - . / : = _ (256 chars max).
    return _TAG_VALUE_ALLOWED.sub("_", value)[:256]


def blob_metadata(metadata: Mapping[str, str | None]) -> dict[str, str]:
    """Metadata as Azure accepts it: identifier keys, string values, None dropped."""
    result: dict[str, str] = {}
    for key, value in metadata.items():
        if value is None:
            continue
        if not _METADATA_KEY.match(key):
            raise ConfigError(f"blob metadata key {key!r} is not a valid identifier")
        result[key] = str(value)
    return result


def tag_blobs(lake: Lake, paths: list[str], metadata: Mapping[str, str]) -> None:
    """Set blob metadata (and, with ``settings.azure.blob_index_tags``, index tags) on ``paths``.

    ``paths`` are fsspec paths or URLs of files under ``lake``. Existing metadata of the
    blob is kept; the given keys are overwritten. Raises :class:`StorageError` naming the
    first blob that could not be tagged.
    """
    from azure.core.exceptions import AzureError

    if not paths:
        return
    if lake.settings is None:
        raise ConfigError(f"lake {lake.url}: Azure lakes need settings with credentials")
    wanted = blob_metadata(metadata)
    use_tags = lake.settings.azure.blob_index_tags
    service = blob_service_client(lake.settings)
    with service:
        for path in paths:
            container, name = split_blob_path(path)
            blob = service.get_blob_client(container, name)
            try:
                current = dict(blob.get_blob_properties().metadata or {})
                current.update(wanted)
                blob.set_blob_metadata(current)
                if use_tags:
                    blob.set_blob_tags({k: _tag_value(v) for k, v in wanted.items()})
            except AzureError as exc:
                reason = getattr(exc, "reason", None) or type(exc).__name__
                raise StorageError(f"cannot tag blob {container}/{name}: {reason}") from exc
