"""Shared access signatures: a time-limited URL for one blob of the lake.

With a token credential (service principal, managed identity) the URL carries a
*user-delegation* SAS, signed with a key the service hands to that identity (it needs
``Storage Blob Delegator``, included in ``Storage Blob Data Contributor``); with only an
account key it carries a *service* SAS signed with the key. A SAS token configured as
the credential cannot sign anything, so it is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from lakegate.errors import ConfigError, NotFoundError, StorageError
from lakegate.lake.azure import blob_service_client, resolve_access, split_blob_path

if TYPE_CHECKING:
    from lakegate.settings import Settings

MAX_USER_DELEGATION = timedelta(days=7)
"""Azure's limit on a user-delegation key (and so on a user-delegation SAS)."""
CLOCK_SKEW = timedelta(minutes=5)
"""The SAS starts this long before now, so a slightly slow server clock accepts it."""

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_PERMISSIONS = frozenset("racwdt")


def parse_duration(text: str) -> timedelta:
    """``30m``, ``1h``, ``7d``, ``90s`` -> timedelta (positive); ConfigError otherwise."""
    match = _DURATION.match(text)
    if not match or int(match[1]) <= 0:
        raise ConfigError(f"--expires {text!r}: give a positive duration like 30m, 1h or 7d")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


@dataclass(frozen=True)
class SasUrl:
    """A signed URL for one blob."""

    url: str
    kind: str
    """``user_delegation`` or ``service``."""
    expires_at: datetime
    permissions: str
    container: str
    blob: str


def _blob_permissions(permissions: str) -> Any:
    from azure.storage.blob import BlobSasPermissions

    unknown = set(permissions) - _PERMISSIONS
    if not permissions or unknown:
        raise ConfigError(
            f"--permissions {permissions!r}: use letters of r (read), a (add), c (create), "
            "w (write), d (delete), t (tags)"
        )
    return BlobSasPermissions.from_string(permissions)


def blob_sas_url(
    settings: Settings,
    path: str,
    *,
    expires_at: datetime,
    permissions: str = "r",
    credential: Any = None,
    check_exists: bool = True,
    **client_kwargs: Any,
) -> SasUrl:
    """A SAS URL for the blob at ``path`` (``container/name`` or ``az://container/name``).

    ``credential`` (a token credential) forces a user-delegation SAS with that identity;
    ``client_kwargs`` go to the ``BlobServiceClient`` (``connection_verify``...). Raises
    :class:`NotFoundError` when the blob does not exist (with ``check_exists``).
    """
    from azure.core.exceptions import AzureError, ResourceNotFoundError
    from azure.storage.blob import generate_blob_sas

    container, blob = split_blob_path(path)
    perms = _blob_permissions(permissions)
    access = resolve_access(settings.azure)
    now = datetime.now(UTC)
    token_auth = credential is not None or access.uses_token
    if not token_auth and not access.account_key:
        raise ConfigError(
            "a SAS URL is signed with an account key or a token credential "
            f"(service principal, managed identity); {access.method.value} cannot sign"
        )
    service = blob_service_client(settings, credential=credential, **client_kwargs)
    with service:
        try:
            if check_exists:
                service.get_blob_client(container, blob).get_blob_properties()
            if token_auth:
                if expires_at - now > MAX_USER_DELEGATION:
                    raise ConfigError("--expires: a user-delegation SAS lasts at most 7 days")
                key = service.get_user_delegation_key(now - CLOCK_SKEW, expires_at)
                token = generate_blob_sas(
                    access.account_name,
                    container,
                    blob,
                    user_delegation_key=key,
                    permission=perms,
                    expiry=expires_at,
                    start=now - CLOCK_SKEW,
                )
                kind = "user_delegation"
            else:
                token = generate_blob_sas(
                    access.account_name,
                    container,
                    blob,
                    account_key=access.account_key,
                    permission=perms,
                    expiry=expires_at,
                    start=now - CLOCK_SKEW,
                )
                kind = "service"
        except ResourceNotFoundError:
            raise NotFoundError(f"blob {container}/{blob} does not exist") from None
        except AzureError as exc:
            reason = getattr(exc, "reason", None) or type(exc).__name__
            raise StorageError(f"cannot sign a SAS for {container}/{blob}: {reason}") from exc
    url = f"{access.blob_url}/{container}/{quote(blob)}?{token}"
    return SasUrl(url, kind, expires_at, permissions, container, blob)


def read_url(
    settings: Settings, path: str, expires: timedelta, permissions: str = "r", **kwargs: Any
) -> SasUrl:
    """:func:`blob_sas_url` valid for ``expires`` from now (what ``lakegate lake sas`` prints)."""
    return blob_sas_url(
        settings,
        path,
        expires_at=datetime.now(UTC) + expires,
        permissions=permissions,
        **kwargs,
    )
