"""The ``az://`` lake on Azurite through adlfs (Blob API: Azurite has no DFS endpoint)."""

from __future__ import annotations

import uuid
from pathlib import Path

import duckdb
import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from azure.storage.blob import BlobServiceClient

from lakegate.errors import ConfigError
from lakegate.lake.azure import tag_blobs
from lakegate.lake.storage import Lake
from lakegate.settings import get_settings
from tests.integration.conftest import Azurite

pytestmark = pytest.mark.integration


@pytest.fixture
def container(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh container; the settings point at Azurite through the connection string."""
    name = f"lake-{uuid.uuid4().hex[:10]}"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
    monkeypatch.setenv("LAKEGATE_AZURE_CONNECTION_STRING", azurite.connection_string)
    return name


def test_az_lake_writes_and_reads_parquet_through_adlfs(container: str) -> None:
    settings = get_settings()
    lake = Lake.from_url(f"az://{container}", settings)
    table = pa.table({"id": [1, 2, 3], "name": ["a", "b", "c"]})
    with lake.fs.open(lake.path("orders/2026/01/02/x.parquet"), "wb") as fh:
        pq.write_table(table, fh)

    assert lake.exists("orders/2026/01/02/x.parquet")
    assert lake.glob("orders/*/*/*/*.parquet") == [f"{container}/orders/2026/01/02/x.parquet"]
    with lake.fs.open(lake.path("orders/2026/01/02/x.parquet"), "rb") as fh:
        assert pq.read_table(fh).to_pylist() == table.to_pylist()


def test_duckdb_reads_the_az_lake_with_the_same_storage_options(container: str) -> None:
    settings = get_settings()
    lake = Lake.from_url(f"az://{container}", settings)
    for part in range(2):
        with lake.fs.open(lake.path(f"t/part{part}.parquet"), "wb") as fh:
            pq.write_table(pa.table({"v": [part * 10 + i for i in range(5)]}), fh)
    con = duckdb.connect()
    con.register_filesystem(fsspec.filesystem("az", **lake.storage_options))
    total = con.execute(f"select count(*), sum(v) from read_parquet('{lake.url}/t/*.parquet')")
    assert total.fetchone() == (10, sum(range(5)) + sum(range(10, 15)))


def test_account_key_and_blob_endpoint_reach_azurite_without_connection_string(
    azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LAKEGATE_AZURE_CONNECTION_STRING")
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_ACCOUNT", azurite.account_name)
    monkeypatch.setenv("LAKEGATE_AZURE_STORAGE_KEY", azurite.account_key)
    monkeypatch.setenv("LAKEGATE_AZURE_BLOB_ENDPOINT", azurite.blob_url)
    lake = Lake.from_url(f"az://{container}/tenant-a/prod", get_settings())
    lake.fs.pipe(lake.path("hello.txt"), b"hi")
    assert lake.fs.cat(lake.path("hello.txt")) == b"hi"


def test_tag_blobs_sets_metadata_and_index_tags_on_every_file(
    azurite: Azurite, container: str
) -> None:
    settings = get_settings()
    lake = Lake.from_url(f"az://{container}", settings)
    paths = [lake.path(f"orders/2026/01/02/f{i}.parquet") for i in range(3)]
    for p in paths:
        lake.fs.pipe(p, b"data")
    meta = {
        "tenant_id": "acme",
        "job_id": "job-1",
        "run_id": "run-42",
        "environment": "prod",
        "source": "postgres_erp",
    }
    lake.tag_files([lake.url_of(p.split("/", 1)[1]) for p in paths], meta)

    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    for p in paths:
        blob = service.get_blob_client(container, p.split("/", 1)[1])
        # adlfs keeps its own ``is_directory`` marker next to ours.
        assert meta.items() <= blob.get_blob_properties().metadata.items()
        assert blob.get_blob_tags() == meta


def test_tag_blobs_without_index_tags_writes_metadata_only(
    azurite: Azurite, container: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAKEGATE_AZURE_BLOB_INDEX_TAGS", "false")
    lake = Lake.from_url(f"az://{container}", get_settings())
    lake.fs.pipe(lake.path("a.parquet"), b"x")
    tag_blobs(lake, [lake.path("a.parquet")], {"run_id": "r1", "tenant_id": None})  # type: ignore[dict-item]
    blob = BlobServiceClient.from_connection_string(azurite.connection_string).get_blob_client(
        container, "a.parquet"
    )
    metadata = blob.get_blob_properties().metadata
    assert metadata["run_id"] == "r1"
    assert "tenant_id" not in metadata
    assert blob.get_blob_tags() == {}


def test_az_lake_without_credentials_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="LAKEGATE_AZURE_STORAGE_ACCOUNT"):
        Lake.from_url("az://raw-data", get_settings())


def test_cli_ls_lists_the_az_lake(container: str, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from lakegate.cli import main

    lake = Lake.from_url(f"az://{container}/raw-data", get_settings())
    lake.fs.pipe(lake.path("orders/2026/01/02/a.parquet"), b"12345")
    lake.fs.pipe(lake.path("customers/2026/01/02/b.parquet"), b"1")
    assert main(["lake", "ls", "orders", "--lake", lake.url, "-o", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["path"], r["size"]) for r in rows] == [("orders/2026/01/02/a.parquet", 5)]


def test_quality_check_reads_an_az_dataset(
    container: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from lakegate.cli import main

    lake = Lake.from_url(f"az://{container}/raw-data", get_settings())
    with lake.fs.open(lake.path("orders/2026/01/02/1.parquet"), "wb") as fh:
        pq.write_table(pa.table({"order_id": [1, 2, 2], "amount": [1.0, -5.0, 3.0]}), fh)
    rules = tmp_path / "rules.yml"
    rules.write_text(
        "dataset: orders\nchecks:\n  - {type: row_count, min: 1}\n"
        "  - {type: unique, column: order_id}\n"
    )
    code = main(
        ["check", "--rules", str(rules), f"{lake.url}/orders/*/*/*/*.parquet", "-o", "json"]
    )
    doc = json.loads(capsys.readouterr().out)
    assert doc["rows"] == 3
    assert code == 1  # the duplicate order_id fails the error-severity unique check


def test_tagging_a_missing_blob_is_a_storage_error_naming_it(container: str) -> None:
    from lakegate.errors import StorageError

    lake = Lake.from_url(f"az://{container}", get_settings())
    with pytest.raises(StorageError, match=f"cannot tag blob {container}/missing.parquet"):
        tag_blobs(lake, [lake.path("missing.parquet")], {"run_id": "r"})


def test_abfss_url_reaches_the_same_container(container: str) -> None:
    """abfss://container@account.dfs... names the container; adlfs talks to the Blob endpoint."""
    settings = get_settings()
    abfss = Lake.from_url(f"abfss://{container}@devstoreaccount1.dfs.core.windows.net/x", settings)
    abfss.fs.pipe(abfss.path("f.txt"), b"via abfss")
    az = Lake.from_url(f"az://{container}/x", settings)
    assert az.fs.cat(az.path("f.txt")) == b"via abfss"
