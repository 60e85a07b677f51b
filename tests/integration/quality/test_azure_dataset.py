"""``az://`` datasets on Azurite: DuckDB reads the Parquet through the lake's fsspec
filesystem (adlfs), and the history lands in the Azure lake's ``_quality/`` folder."""

from __future__ import annotations

import uuid
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from azure.storage.blob import BlobServiceClient

from lakegate.errors import DatasetError
from lakegate.lake.storage import Lake
from lakegate.quality.engines.duckdb import DuckDBEngine
from lakegate.quality.models import parse_rules
from lakegate.quality.service import check as run_check
from lakegate.settings import get_settings
from tests.integration.conftest import Azurite

pytestmark = pytest.mark.integration


@pytest.fixture
def lake(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Lake:
    name = f"dq-{uuid.uuid4().hex[:10]}"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
    monkeypatch.setenv("LAKEGATE_AZURE_CONNECTION_STRING", azurite.connection_string)
    lake = Lake.from_url(f"az://{name}", get_settings())
    for day, ids in (("01", [1, 2, 3]), ("02", [3, 4])):
        with lake.fs.open(lake.path(f"orders/2026/01/{day}/load.0.parquet"), "wb") as handle:
            pq.write_table(pa.table({"order_id": ids, "amount": [1.0] * len(ids)}), handle)
    return lake


def test_lake_table_on_azure(lake: Lake) -> None:
    rules = parse_rules(
        {
            "dataset": "orders",
            "checks": [
                {"type": "row_count", "equals": 5},
                {"type": "unique", "column": "order_id"},
                {"type": "schema_change"},
            ],
        }
    )
    result = run_check(rules, "orders", settings=get_settings(), lake=lake)
    assert result.rows == 5
    assert [c.status for c in result.checks] == ["pass", "fail", "pass"]
    assert result.checks[1].failed_rows == 2
    assert result.checks[1].samples == [{"order_id": 3, "duplicate_count": 2}]
    records = lake.glob("_quality/orders/runs/*.json")
    assert len(records) == 1


def test_az_url_dataset_and_missing_path(lake: Lake) -> None:
    rules = parse_rules({"checks": [{"type": "not_null", "column": "amount"}]})
    url = lake.url_of("orders/2026/01/02")
    result = run_check(rules, url, settings=get_settings(), lake=lake)
    assert (result.rows, result.status) == (2, "pass")
    with pytest.raises(DatasetError, match="no Parquet files found"):
        run_check(rules, lake.url_of("nothing"), settings=get_settings(), lake=lake)


def test_footer_statistics_and_parallel_samples_on_azure(
    lake: Lake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On az:// the footers come through fsspec too (one parquet_metadata query), and the
    samples of several failing checks are fetched at once on cursors of the same database,
    which see the registered filesystem."""
    with lake.fs.open(lake.path("payments/2026/01/01/load.0.parquet"), "wb") as handle:
        pq.write_table(
            pa.table({"id": [1, 2, 3, 4], "amount": [5.0, None, -1.0, 7.0], "qty": [1, 2, 3, 4]}),
            handle,
        )
    rules = parse_rules(
        {
            "dataset": "payments",
            "keys": ["id"],
            "checks": [
                {"name": "amount_present", "type": "not_null", "column": "amount"},
                {"name": "amount_positive", "type": "between", "column": "amount", "min": 0},
                {"name": "qty_range", "type": "between", "column": "qty", "min": 1, "max": 9},
            ],
        }
    )
    read: list[Any] = []
    original = DuckDBEngine.metadata_statistics

    def recording(self: DuckDBEngine, placeholder: str, columns: Any) -> Any:
        read.append(original(self, placeholder, columns))
        return read[-1]

    monkeypatch.setattr(DuckDBEngine, "metadata_statistics", recording)
    result = run_check(rules, "payments", settings=get_settings(), lake=lake)
    (stats,) = read
    assert stats.rows == 4 and stats.columns["amount"].null_count == 1
    assert (stats.columns["qty"].minimum, stats.columns["qty"].maximum) == (1, 4)
    by_name = {c.name: c for c in result.checks}
    assert (by_name["amount_present"].failed_rows, by_name["amount_present"].samples) == (
        1,
        [{"id": 2, "amount": None}],
    )
    assert (by_name["amount_positive"].failed_rows, by_name["amount_positive"].samples) == (
        1,
        [{"id": 3, "amount": -1.0}],
    )
    assert by_name["qty_range"].status == "pass"
