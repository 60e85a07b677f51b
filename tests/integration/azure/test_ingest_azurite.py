"""An ingestion run into ``az://`` on Azurite: same dated Parquet layout and row counts as
into a local folder, with blob metadata on every file it writes (Blob API: Azurite has no DFS)."""

from __future__ import annotations

import re
import sqlite3
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from azure.storage.blob import BlobServiceClient

from lakegate.ingest.models import IngestJob, SourceType
from lakegate.ingest.pipeline import run_job
from lakegate.lake.storage import Lake
from lakegate.settings import get_settings
from tests.integration.conftest import Azurite

pytestmark = pytest.mark.integration

LAYOUT = re.compile(r"^orders/\d{4}/\d{2}/\d{2}/\d+\.\d+\.[0-9a-z]+\.parquet$")
TAGS = {
    "tenant_id": "acme",
    "job_id": "orders_full",
    "run_id": "run-1",
    "environment": "prod",
    "source": "shop",
}


@pytest.fixture
def shop_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table orders (id integer primary key, amount real, note text)")
        conn.executemany(
            "insert into orders values (?, ?, ?)",
            [(i, i * 1.5, f"order {i} 'quoted'") for i in range(1, 238)],
        )
    monkeypatch.setenv("SOURCES__SHOP__DATABASE", str(path))
    return path


def _rel_files(lake: Lake) -> list[str]:
    root = lake.path().rstrip("/") + "/"
    return [p.removeprefix(root) for p in lake.glob("orders/*/*/*/*.parquet")]


def test_ingest_into_azurite_matches_local_lake_and_tags_every_file(
    azurite: Azurite, shop_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    container = f"raw-{uuid.uuid4().hex[:10]}"
    service = BlobServiceClient.from_connection_string(azurite.connection_string)
    service.create_container(container)
    monkeypatch.setenv("LAKEGATE_AZURE_CONNECTION_STRING", azurite.connection_string)
    settings = get_settings(state_dir=str(tmp_path / "state"))
    job = IngestJob(
        job_id="orders_full", source_type=SourceType.sqlite, source_name="shop", table_name="orders"
    )

    local = Lake.from_url(str(tmp_path / "lake"), settings)
    local_result = run_job(job, lake=local, settings=settings, run_id="run-0")
    remote = Lake.from_url(f"az://{container}/raw-data", settings)
    remote_result = run_job(job, lake=remote, settings=settings, run_id="run-1", tags=TAGS)

    assert local_result.status == remote_result.status == "success", remote_result.error
    assert local_result.rows_loaded == remote_result.rows_loaded == 237
    local_files, remote_files = _rel_files(local), _rel_files(remote)
    assert remote_files and all(LAYOUT.match(f) for f in remote_files), remote_files
    assert [LAYOUT.match(f) is not None for f in local_files] == [True] * len(remote_files)
    assert len(local_files) == len(remote_files)

    rows = 0
    for rel in remote_files:
        with remote.fs.open(remote.path(rel), "rb") as fh:
            rows += pq.read_table(fh).num_rows
    assert rows == 237

    client = service.get_container_client(container)
    data_blobs = [
        b for b in client.list_blobs(name_starts_with="raw-data/orders/", include=["metadata"])
    ]
    assert len(data_blobs) == len(remote_files)
    for blob in data_blobs:
        assert TAGS.items() <= (blob.metadata or {}).items(), blob.name
        assert client.get_blob_client(blob.name).get_blob_tags() == TAGS
    # Every file the run wrote, dlt's own bookkeeping included, carries the metadata.
    every_blob = list(client.list_blobs(name_starts_with="raw-data/", include=["metadata"]))
    state_blobs = [b for b in every_blob if "/_dlt_" in b.name or b.name.endswith("/init")]
    assert {b.name.split("/")[1] for b in state_blobs} >= {
        "_dlt_loads",
        "_dlt_pipeline_state",
        "_dlt_version",
    }
    untagged = [b.name for b in every_blob if not TAGS.items() <= (b.metadata or {}).items()]
    assert untagged == []
