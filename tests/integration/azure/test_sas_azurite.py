"""``lakegate lake sas`` on Azurite: the printed URL downloads the blob, expired URLs fail.

Service SAS (account key) is verified end to end. The user-delegation path runs against
an HTTPS Azurite with ``--oauth basic`` (which accepts any well-formed Entra ID JWT; the
token comes from a test credential, not under test): Azurite hands out the delegation key
and the SAS is built from it.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import trustme
from azure.core.credentials import AccessToken
from azure.storage.blob import BlobServiceClient

from lakegate.cli import main
from lakegate.lake.azure import blob_service_client
from lakegate.lake.sas import blob_sas_url, read_url
from lakegate.settings import get_settings
from tests.integration.conftest import AZURITE_ACCOUNT, Azurite, start_azurite, stop

pytestmark = pytest.mark.integration

TENANT = "ab1f708d-50f6-404c-a006-d71b2ac7a606"


@pytest.fixture
def blob(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, bytes]:
    container = f"sas-{uuid.uuid4().hex[:10]}"
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.create_container(container)
    data = b"PAR1 pretend parquet " + uuid.uuid4().bytes
    name = "orders/2026/01/02/1.a b.parquet"
    service.get_blob_client(container, name).upload_blob(data)
    monkeypatch.setenv("LAKEGATE_AZURE_CONNECTION_STRING", azurite.connection_string)
    return container, name, data


def test_cli_prints_a_service_sas_url_that_downloads_the_blob(
    blob: tuple[str, str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    container, name, data = blob
    code = main(["lake", "sas", name, "--expires", "1h", "--lake", f"az://{container}"])
    out, err = capsys.readouterr()
    assert code == 0, err
    url = out.strip()
    assert "sig=" in url and "sp=r" in url
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == data
    # read-only: the same URL cannot overwrite the blob
    put = httpx.put(url, content=b"x", headers={"x-ms-blob-type": "BlockBlob"})
    assert put.status_code == 403


def test_json_output_and_full_url_argument(
    blob: tuple[str, str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    container, name, data = blob
    code = main(["lake", "sas", f"az://{container}/{name}", "--expires", "30m", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0
    assert doc["kind"] == "service"
    assert (doc["container"], doc["blob"], doc["permissions"]) == (container, name, "r")
    expires = datetime.fromisoformat(doc["expires_at"])
    assert timedelta(minutes=29) < expires - datetime.now(UTC) <= timedelta(minutes=30)
    assert httpx.get(doc["url"]).content == data


def test_expired_url_is_refused(blob: tuple[str, str, bytes]) -> None:
    container, name, _ = blob
    past = blob_sas_url(
        get_settings(), f"{container}/{name}", expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    assert httpx.get(past.url).status_code == 403
    fresh = read_url(get_settings(), f"{container}/{name}", timedelta(minutes=5))
    assert httpx.get(fresh.url).status_code == 200  # same blob, same signer: only expiry differs


def test_bad_input_exit_2(blob: tuple[str, str, bytes], capsys: pytest.CaptureFixture[str]) -> None:
    container, _, _ = blob
    lake = ["--lake", f"az://{container}"]
    assert main(["lake", "sas", "nope.parquet", *lake]) == 2
    assert f"blob {container}/nope.parquet does not exist" in capsys.readouterr().err
    assert main(["lake", "sas", "x", "--expires", "soon", *lake]) == 2
    assert "--expires 'soon'" in capsys.readouterr().err
    assert main(["lake", "sas", "x", "--permissions", "rz", *lake]) == 2
    assert "--permissions 'rz'" in capsys.readouterr().err


def test_sas_token_alone_cannot_sign(
    azurite: Azurite, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", AZURITE_ACCOUNT)
    monkeypatch.setenv("LAKEGATE_AZURE_SAS_TOKEN", "sv=2024-08-04&sig=abc")
    monkeypatch.setenv("LAKEGATE_AZURE_BLOB_ENDPOINT", azurite.blob_url)
    assert main(["lake", "sas", "az://c/x.parquet"]) == 2
    assert "cannot sign" in capsys.readouterr().err


class EntraLikeToken:
    """A token credential minting JWTs shaped like Entra ID's (Azurite checks the claims)."""

    def get_token(self, *scopes: str, **_kwargs: Any) -> AccessToken:
        now = int(time.time())
        claims = {
            "aud": "https://storage.azure.com",
            "iss": f"https://sts.windows.net/{TENANT}/",
            "nbf": now - 60,
            "iat": now - 60,
            "exp": now + 3600,
            "oid": "11111111-2222-3333-4444-555555555555",
            "tid": TENANT,
        }
        return AccessToken(jwt.encode(claims, "x" * 32, algorithm="HS256"), now + 3600)


@pytest.fixture(scope="module")
def azurite_oauth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Azurite over HTTPS (trustme certificate) with basic OAuth: token credentials work."""
    folder = tmp_path_factory.mktemp("azurite-https")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    ca.cert_pem.write_to_path(str(folder / "ca.pem"))
    proc, port = start_azurite(
        folder / "data", cert=folder / "cert.pem", key=folder / "key.pem", oauth=True
    )
    try:
        yield f"https://127.0.0.1:{port}/{AZURITE_ACCOUNT}", folder / "ca.pem"
    finally:
        stop(proc)


@pytest.fixture
def oauth_blob(
    azurite_oauth: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, Path]:
    url, ca = azurite_oauth
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", AZURITE_ACCOUNT)
    monkeypatch.setenv("LAKEGATE_AZURE_BLOB_ENDPOINT", url)
    container = f"ud-{uuid.uuid4().hex[:10]}"
    service = blob_service_client(
        get_settings(), credential=EntraLikeToken(), connection_verify=str(ca)
    )
    service.create_container(container)
    service.get_blob_client(container, "a/b.parquet").upload_blob(b"delegated")
    return container, "a/b.parquet", ca


def test_token_credential_gets_a_user_delegation_sas(oauth_blob: tuple[str, str, Path]) -> None:
    container, name, ca = oauth_blob
    result = read_url(
        get_settings(),
        f"az://{container}/{name}",
        timedelta(hours=1),
        credential=EntraLikeToken(),
        connection_verify=str(ca),
    )
    assert result.kind == "user_delegation"
    query = httpx.URL(result.url).params
    # The delegation key's identity and lifetime come from the service.
    assert query["skoid"] == "11111111-2222-3333-4444-555555555555"
    assert query["sktid"] == TENANT
    assert query["sp"] == "r" and query["sr"] == "b" and "sig" in query


@pytest.mark.xfail(
    strict=True,
    reason="Azurite 3.35 verifies user-delegation SAS with the 2025-11-05 string-to-sign; "
    "azure-storage-blob 12.31 signs the 2026-10-06 form (srh/srq lines). Real accounts accept it.",
)
def test_user_delegation_url_downloads_from_azurite(oauth_blob: tuple[str, str, Path]) -> None:
    container, name, ca = oauth_blob
    result = read_url(
        get_settings(),
        f"az://{container}/{name}",
        timedelta(hours=1),
        credential=EntraLikeToken(),
        connection_verify=str(ca),
    )
    assert httpx.get(result.url, verify=str(ca)).status_code == 200


def test_user_delegation_sas_is_limited_to_7_days(oauth_blob: tuple[str, str, Path]) -> None:
    container, name, ca = oauth_blob
    from lakegate.errors import ConfigError

    with pytest.raises(ConfigError, match="at most 7 days"):
        read_url(
            get_settings(),
            f"{container}/{name}",
            timedelta(days=8),
            credential=EntraLikeToken(),
            connection_verify=str(ca),
        )
