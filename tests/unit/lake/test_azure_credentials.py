"""Credential order and the options each consumer (adlfs, dlt, blob client) receives."""

from __future__ import annotations

import pytest

from lakegate.errors import ConfigError
from lakegate.lake.azure import (
    AuthMethod,
    blob_metadata,
    dlt_destination_options,
    resolve_access,
    split_blob_path,
    storage_options,
)
from lakegate.observability.redact import redact
from lakegate.settings import get_settings

KEY = "a2V5LWZvci10ZXN0cy1vbmx5LTEyMzQ1Njc4OTA="
SAS = "sv=2024-08-04&ss=b&srt=sco&sp=rl&sig=c2lnbmF0dXJlLXRlc3Q%3D"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AZURE_TENANT_ID",
        "AZURE_STORAGE_CONNECTION_STRING",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_nothing_configured_names_the_settings(env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"LAKEGATE_AZURE_STORAGE_ACCOUNT.*CONNECTION_STRING"):
        storage_options(get_settings())


def test_connection_string_wins_over_everything(env: pytest.MonkeyPatch) -> None:
    conn = (
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={KEY};"
        "EndpointSuffix=core.windows.net"
    )
    env.setenv("LAKEGATE_AZURE_CONNECTION_STRING", conn)
    env.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", "other")
    env.setenv("LAKEGATE_AZURE_SAS_TOKEN", SAS)
    access = resolve_access(get_settings().azure)
    assert access.method is AuthMethod.connection_string
    assert (access.account_name, access.blob_url) == ("acct", "https://acct.blob.core.windows.net")
    assert storage_options(get_settings()) == {"connection_string": conn}
    dlt = dlt_destination_options(get_settings())
    assert dlt["credentials"] == {
        "azure_storage_account_name": "acct",
        "azure_storage_account_key": KEY,
    }
    assert dlt["kwargs"] == {"connection_string": conn}
    assert KEY not in redact(f"failed with {conn}")


def test_account_key_before_sas_before_service_principal(env: pytest.MonkeyPatch) -> None:
    env.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", "acct")
    env.setenv("LAKEGATE_AZURE_STORAGE_KEY", KEY)
    env.setenv("LAKEGATE_AZURE_SAS_TOKEN", SAS)
    env.setenv("AZURE_CLIENT_ID", "cid")
    env.setenv("AZURE_CLIENT_SECRET", "client-secret-value")
    env.setenv("AZURE_TENANT_ID", "tid")
    assert storage_options(get_settings()) == {"account_name": "acct", "account_key": KEY}
    assert dlt_destination_options(get_settings()) == {
        "credentials": {"azure_storage_account_name": "acct", "azure_storage_account_key": KEY}
    }
    env.delenv("LAKEGATE_AZURE_STORAGE_KEY")
    assert storage_options(get_settings()) == {"account_name": "acct", "sas_token": SAS}
    assert dlt_destination_options(get_settings())["credentials"]["azure_storage_sas_token"] == SAS
    env.delenv("LAKEGATE_AZURE_SAS_TOKEN")
    assert storage_options(get_settings()) == {
        "account_name": "acct",
        "client_id": "cid",
        "client_secret": "client-secret-value",
        "tenant_id": "tid",
    }
    assert dlt_destination_options(get_settings())["credentials"] == {
        "azure_storage_account_name": "acct",
        "azure_client_id": "cid",
        "azure_client_secret": "client-secret-value",
        "azure_tenant_id": "tid",
    }
    assert "client-secret-value" not in redact("secret client-secret-value leaked")


def test_account_name_alone_uses_default_credential(env: pytest.MonkeyPatch) -> None:
    env.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", "acct")
    access = resolve_access(get_settings().azure)
    assert access.method is AuthMethod.default_credential and access.uses_token
    assert storage_options(get_settings()) == {"account_name": "acct", "anon": False}
    assert dlt_destination_options(get_settings()) == {
        "credentials": {"azure_storage_account_name": "acct"}
    }


def test_https_blob_endpoint_becomes_account_host(env: pytest.MonkeyPatch) -> None:
    env.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", "acct")
    env.setenv("LAKEGATE_AZURE_BLOB_ENDPOINT", "https://acct.blob.core.chinacloudapi.cn/")
    assert storage_options(get_settings())["account_host"] == "acct.blob.core.chinacloudapi.cn"
    assert (
        dlt_destination_options(get_settings())["credentials"]["azure_account_host"]
        == "acct.blob.core.chinacloudapi.cn"
    )


def test_plain_http_endpoint_goes_through_a_connection_string(env: pytest.MonkeyPatch) -> None:
    env.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", "devstoreaccount1")
    env.setenv("LAKEGATE_AZURE_STORAGE_KEY", KEY)
    env.setenv("LAKEGATE_AZURE_BLOB_ENDPOINT", "http://127.0.0.1:10000/devstoreaccount1")
    conn = storage_options(get_settings())["connection_string"]
    assert "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1" in conn
    assert f"AccountKey={KEY}" in conn
    env.delenv("LAKEGATE_AZURE_STORAGE_KEY")
    with pytest.raises(ConfigError, match="plain HTTP: token credentials need HTTPS"):
        storage_options(get_settings())


def test_bad_connection_string_is_a_config_error(env: pytest.MonkeyPatch) -> None:
    env.setenv("LAKEGATE_AZURE_CONNECTION_STRING", "garbage-without-pairs")
    with pytest.raises(ConfigError, match="key=value"):
        storage_options(get_settings())


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("raw-data/orders/x.parquet", ("raw-data", "orders/x.parquet")),
        ("az://raw-data/orders/x.parquet", ("raw-data", "orders/x.parquet")),
        ("abfss://raw-data@acct.dfs.core.windows.net/a/b.parquet", ("raw-data", "a/b.parquet")),
    ],
)
def test_split_blob_path(path: str, expected: tuple[str, str]) -> None:
    assert split_blob_path(path) == expected


def test_split_blob_path_rejects_container_only() -> None:
    with pytest.raises(ConfigError, match="not a blob path"):
        split_blob_path("az://raw-data")


def test_blob_metadata_drops_none_and_rejects_bad_keys() -> None:
    assert blob_metadata({"run_id": "r", "tenant_id": None}) == {"run_id": "r"}  # type: ignore[dict-item]
    with pytest.raises(ConfigError, match="not a valid identifier"):
        blob_metadata({"bad-key": "v"})
