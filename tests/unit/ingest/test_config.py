"""Workbook and YAML job configuration: parsing, and one exact line per problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook

from lakegate.errors import ExitCode, MultipleConfigError
from lakegate.ingest.config import load_jobs, write_workbook
from lakegate.ingest.models import LoadType, SourceType

HEADER = [
    "job_id", "enabled", "source_type", "source_name", "schema_name", "table_name",
    "load_type", "watermark_column", "primary_key",
]  # fmt: skip


def good_row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "job_id": "orders",
        "enabled": "Y",
        "source_type": "postgresql",
        "source_name": "postgres_erp",
        "schema_name": "public",
        "table_name": "orders",
        "load_type": "INCREMENTAL",
        "watermark_column": "updated_at",
        "primary_key": "order_id",
    }
    row.update(overrides)
    return row


def book(path: Path, header: list[Any], rows: list[list[Any]], sheet: str = "jobs") -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def problems(path: Path) -> list[str]:
    with pytest.raises(MultipleConfigError) as info:
        load_jobs(path)
    assert info.value.exit_code == ExitCode.BAD_INPUT
    return info.value.problems


# --- parsing ----------------------------------------------------------------------------


def test_workbook_column_order_header_case_and_spaces_do_not_matter(tmp_path: Path) -> None:
    header = ["  Load_Type ", "PRIMARY KEY", "Job_ID", "enabled", "Source_Type",
              "source_name", "schema_name", "TABLE_NAME", " watermark_column", "Columns",
              "Chunk Size"]  # fmt: skip
    row = ["incremental", "order_id, line_no", "o1", "y", "PostgreSQL", "pg", "public",
           "order_lines", "updated_at", " order_id ,line_no,, updated_at ", 50000.0]  # fmt: skip
    (job,) = load_jobs(book(tmp_path / "c.xlsx", header, [row]))
    assert job.job_id == "o1"
    assert job.enabled is True
    assert job.source_type is SourceType.postgresql
    assert job.load_type is LoadType.INCREMENTAL
    assert job.primary_key == ["order_id", "line_no"]
    assert job.columns == ["order_id", "line_no", "updated_at"]
    assert job.chunk_size == 50000
    assert job.watermark_column == "updated_at"
    assert job.target == "order_lines"


def test_workbook_y_n_empty_rows_and_numeric_ids(tmp_path: Path) -> None:
    rows = [
        [101, "N", "sqlite", "erp", None, "customers", "FULL", None, None],
        [None] * 9,
        ["", " ", None, None, None, None, None, None, None],
        ["b", "YES", "mysql", "my", "shop", "items", "Full", None, "id"],
    ]
    jobs = load_jobs(book(tmp_path / "c.xlsx", HEADER, rows))
    assert [(j.job_id, j.enabled) for j in jobs] == [("101", False), ("b", True)]
    assert jobs[0].primary_key == []
    assert jobs[0].schema_name is None
    assert jobs[1].load_type is LoadType.FULL


def test_rules_file_resolved_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "orders.yml").write_text("checks:\n  - {type: row_count, min: 1}\n")
    header = [*HEADER, "rules_file"]
    row = [*good_row().values(), "rules/orders.yml"]
    (job,) = load_jobs(book(tmp_path / "c.xlsx", header, [row]))
    assert job.rules_file == str((tmp_path / "rules" / "orders.yml").resolve())


def test_yaml_twin_gives_the_same_jobs_as_the_workbook(tmp_path: Path) -> None:
    rows = [
        good_row(),
        good_row(job_id="c", table_name="customers", load_type="FULL", watermark_column=None,
                 primary_key=["customer_id"], enabled=False, owner="ops", chunk_size=1000),
    ]  # fmt: skip
    (tmp_path / "jobs.yml").write_text(yaml.safe_dump({"jobs": rows}))
    from_yaml = load_jobs(tmp_path / "jobs.yml")
    from_book = load_jobs(write_workbook(rows, tmp_path / "jobs.xlsx"))
    assert from_yaml == from_book
    assert from_yaml[1].enabled is False
    assert from_yaml[1].primary_key == ["customer_id"]


def test_example_config_workbook_and_yaml_agree() -> None:
    config = Path(__file__).parents[3] / "config"
    assert load_jobs(config / "ingestion_config.xlsx") == load_jobs(config / "ingestion_config.yml")


# --- validation: every problem, exact lines -------------------------------------------


def test_every_problem_of_the_workbook_is_reported_with_row_and_column(tmp_path: Path) -> None:
    rows = [
        list(good_row(job_id="ok").values()),  # row 2
        list(good_row(job_id="a", table_name="a", load_type="INCREMANTAL").values()),  # row 3
        [None] * 9,  # row 4: ignored, but counted
        list(good_row(job_id="b", enabled="maybe", source_type="db2", table_name="b").values()),
        list(good_row(job_id="ok", table_name="other").values()),  # row 6: duplicate id
        list(good_row(job_id="c", table_name="c", watermark_column=None).values()),  # row 7
        list(good_row(job_id=None, source_name=None, table_name="d").values()),  # row 8
    ]
    path = book(tmp_path / "ingestion_config.xlsx", HEADER, rows)
    assert problems(path) == [
        "ingestion_config.xlsx: sheet jobs, row 3, column load_type: "
        "'INCREMANTAL' is not FULL or INCREMENTAL",
        "ingestion_config.xlsx: sheet jobs, row 5, column enabled: 'maybe' is not Y or N",
        "ingestion_config.xlsx: sheet jobs, row 5, column source_type: "
        "'db2' is not one of postgresql, mysql, mssql, oracle, sqlite, rest_api",
        "ingestion_config.xlsx: sheet jobs, row 6, column job_id: "
        "duplicate job_id 'ok' (first at row 2)",
        "ingestion_config.xlsx: sheet jobs, row 7, column watermark_column: "
        "required when load_type is INCREMENTAL",
        "ingestion_config.xlsx: sheet jobs, row 8, column job_id: a value is required",
        "ingestion_config.xlsx: sheet jobs, row 8, column source_name: a value is required",
    ]


def test_numbers_bounds_choices_and_missing_files(tmp_path: Path) -> None:
    header = [*HEADER, "chunk_size", "partitions", "backend", "schema_contract", "rules_file"]
    rows = [
        [*good_row(job_id="a", table_name="a").values(), "many", 0, "odbc", "strict", "no.yml"],
        [*good_row(job_id="b", table_name="b").values(), -5, 65, None, None, None],
    ]
    path = book(tmp_path / "c.xlsx", header, rows)
    assert problems(path) == [
        "c.xlsx: sheet jobs, row 2, column chunk_size: 'many' is not a whole number",
        "c.xlsx: sheet jobs, row 2, column partitions: 0 should be greater than or equal to 1",
        "c.xlsx: sheet jobs, row 2, column backend: "
        "'odbc' is not one of connectorx, pyarrow, sqlalchemy, pandas, adbc",
        "c.xlsx: sheet jobs, row 2, column schema_contract: 'strict' is not one of evolve, freeze",
        "c.xlsx: sheet jobs, row 2, column rules_file: file 'no.yml' does not exist",
        "c.xlsx: sheet jobs, row 3, column chunk_size: -5 should be greater than 0",
        "c.xlsx: sheet jobs, row 3, column partitions: 65 should be less than or equal to 64",
    ]


def test_two_jobs_writing_the_same_lake_table_are_refused(tmp_path: Path) -> None:
    header = [*HEADER, "target_table"]
    rows = [
        [*good_row(job_id="a", table_name="orders").values(), None],
        [*good_row(job_id="b", table_name="orders_v2").values(), "Orders"],
    ]
    assert problems(book(tmp_path / "c.xlsx", header, rows)) == [
        "c.xlsx: sheet jobs, row 3, column target_table: lake table 'Orders' is already "
        "loaded by job 'a' (row 2); give one of them another target_table"
    ]


def test_rest_api_job_needs_an_endpoint_config(tmp_path: Path) -> None:
    row = good_row(source_type="rest_api", load_type="FULL", watermark_column=None)
    assert problems(book(tmp_path / "c.xlsx", HEADER, [list(row.values())])) == [
        "c.xlsx: sheet jobs, row 2, column endpoint_config: "
        "required for source_type rest_api (a YAML file)"
    ]


def test_header_problems_missing_unknown_and_duplicate_columns(tmp_path: Path) -> None:
    header = ["job_id", "enabled", "source_type", "source_name", "table_name", "load_type",
              "primary_key", "rule_file", "Job ID"]  # fmt: skip
    path = book(
        tmp_path / "c.xlsx", header, [["a", "Y", "sqlite", "s", "t", "FULL", None, "x", "b"]]
    )
    assert problems(path) == [
        "c.xlsx: sheet jobs, row 1, column H: unknown column 'rule_file' "
        "(did you mean rules_file?)",
        "c.xlsx: sheet jobs, row 1, column I: column job_id appears twice (also column A)",
        "c.xlsx: sheet jobs: missing required column schema_name",
        "c.xlsx: sheet jobs: missing required column watermark_column",
    ]


def test_missing_sheet_missing_file_and_wrong_formats(tmp_path: Path) -> None:
    assert problems(book(tmp_path / "c.xlsx", HEADER, [], sheet="Sheet1")) == [
        "c.xlsx: no sheet named 'jobs' (sheets: Sheet1)"
    ]
    assert problems(tmp_path / "nope.xlsx") == [f"{tmp_path / 'nope.xlsx'}: file not found"]
    (tmp_path / "jobs.csv").write_text("job_id\n")
    assert problems(tmp_path / "jobs.csv") == [
        "jobs.csv: not an .xlsx workbook or a .yml/.yaml file"
    ]
    (tmp_path / "fake.xlsx").write_text("not a zip")
    assert problems(tmp_path / "fake.xlsx") == [
        "fake.xlsx: not a valid .xlsx workbook (BadZipFile)"
    ]


def test_yaml_problems_name_the_item_and_key(tmp_path: Path) -> None:
    jobs = [
        good_row(job_id="a"),
        good_row(job_id="b", table_name="b", loadtype="FULL"),
        "just a string",
        good_row(job_id="a", table_name="c", load_type="INCREMANTAL"),
    ]
    path = tmp_path / "config.yml"
    path.write_text(yaml.safe_dump({"jobs": jobs}))
    assert problems(path) == [
        "config.yml: jobs[1].loadtype: unknown key (did you mean load_type?)",
        "config.yml: jobs[2]: expected a mapping of column: value",
        "config.yml: jobs[3].job_id: duplicate job_id 'a' (first at jobs[0])",
        "config.yml: jobs[3].load_type: 'INCREMANTAL' is not FULL or INCREMENTAL",
    ]


def test_yaml_syntax_and_shape_errors(tmp_path: Path) -> None:
    bad = tmp_path / "config.yml"
    bad.write_text("jobs:\n  - job_id: a\n   enabled: [\n")
    (line,) = problems(bad)
    assert line.startswith("config.yml: line ") and "invalid YAML" in line
    bad.write_text("job: []\n")
    assert problems(bad) == ["config.yml: expected a 'jobs:' list at the top level"]


def test_source_rules_are_checked_before_anything_runs(tmp_path: Path) -> None:
    """lag, backend and REST endpoint sets are checked by the pipeline's own parsers."""
    (tmp_path / "api.yml").write_text(
        "client: {base_url: 'http://localhost:1/'}\nresources: [contacts, deals]\n"
    )
    (tmp_path / "broken.yml").write_text("client: {}\nresources: [a]\n")
    header = [*HEADER, "lag", "backend", "endpoint_config"]
    rows = [
        [*good_row(job_id="a", table_name="a").values(), "2 hours", None, None],
        [*good_row(job_id="b", table_name="b", source_type="oracle").values(), None,
         "connectorx", None],
        [*good_row(job_id="c", table_name="companies", source_type="rest_api").values(), None,
         None, "api.yml"],
        [*good_row(job_id="d", table_name="d", source_type="rest_api").values(), None, None,
         "broken.yml"],
        [*good_row(job_id="e", table_name="contacts", source_type="rest_api").values(), "1d",
         None, "api.yml"],
    ]  # fmt: skip
    assert problems(book(tmp_path / "c.xlsx", header, rows)) == [
        "c.xlsx: sheet jobs, row 2, column lag: "
        "'2 hours' is not a duration like 30m, 2h, 1d or a number",
        "c.xlsx: sheet jobs, row 3, column backend: backend connectorx cannot read oracle "
        "without native client libraries; use pyarrow",
        "c.xlsx: sheet jobs, row 4, column table_name: "
        "no resource 'companies' in the endpoint_config (resources: contacts, deals)",
        "c.xlsx: sheet jobs, row 5, column endpoint_config: client.base_url is missing",
    ]


def test_sheet_name_case_and_other_sheets_and_empty_sheet(tmp_path: Path) -> None:
    path = book(tmp_path / "c.xlsx", HEADER, [list(good_row().values())], sheet=" Jobs ")
    assert [j.job_id for j in load_jobs(path)] == ["orders"]
    assert problems(book(tmp_path / "e.xlsx", [], [])) == [
        "e.xlsx: sheet jobs: the sheet is empty (no header row)"
    ]


def test_rule_files_are_validated_with_the_config(tmp_path: Path) -> None:
    """A broken rule file is a configuration error found before any load (quality parser)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bad.yml").write_text(
        "checks:\n  - {type: not_null, colum: id}\n  - {type: between, column: x}\n"
    )
    (tmp_path / "rules" / "broken.yml").write_text("checks: [\n")
    jobs = [
        {**good_row(job_id="a", table_name="a"), "rules_file": "rules/bad.yml"},
        {**good_row(job_id="b", table_name="b"), "rules_file": "rules/broken.yml"},
    ]
    (tmp_path / "config.yml").write_text(yaml.safe_dump({"jobs": jobs}))
    assert problems(tmp_path / "config.yml") == [
        "config.yml: jobs[0].rules_file: rules/bad.yml: checks[0].colum: unknown key "
        "(did you mean 'column'?)",
        "config.yml: jobs[0].rules_file: rules/bad.yml: checks[1]: between needs min or max",
        "config.yml: jobs[1].rules_file: rules/broken.yml: line 2: not valid YAML",
    ]


def test_include_list_must_keep_key_and_watermark_columns(tmp_path: Path) -> None:
    header = [*HEADER, "columns"]
    rows = [
        [*good_row(job_id="a", table_name="a", primary_key="id, line").values(), "line, total"],
        [*good_row(job_id="b", table_name="b", primary_key="ID").values(), "id, updated_at, x"],
    ]
    assert problems(book(tmp_path / "c.xlsx", header, rows)) == [
        "c.xlsx: sheet jobs, row 2, column columns: "
        "must include the key/watermark column(s) id, updated_at"
    ]
