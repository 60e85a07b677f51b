"""``lakegate check``: exit codes, JSON output, bad inputs as one line with exit 2."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import structlog

from lakegate.cli import main


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures structlog on the captured stderr of the test; later tests in the
    same worker must not write to that closed stream."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    pq.write_table(
        pa.table({"order_id": [1, 2, 2, 4], "amount": [5.0, -1.0, 7.0, None]}),
        tmp_path / "orders.parquet",
    )
    (tmp_path / "pass.yml").write_text(
        "dataset: orders\nchecks:\n"
        "  - {type: row_count, min: 1}\n"
        "  - {type: between, column: amount, min: -10, max: 10}\n"
    )
    (tmp_path / "warn.yml").write_text(
        "checks:\n  - {type: between, column: amount, min: 0, severity: warn}\n"
    )
    (tmp_path / "fail.yml").write_text(
        "keys: [order_id]\nchecks:\n"
        "  - {name: id_unique, type: unique, columns: [order_id]}\n"
        "  - {name: amount_range, type: between, column: amount, min: 0, severity: warn}\n"
    )
    return tmp_path


def test_exit_0_when_everything_passes(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", "--rules", str(files / "pass.yml"), str(files / "orders.parquet")])
    out = capsys.readouterr().out
    assert code == 0
    assert "between_amount" in out and "status pass" in out


def test_warn_only_exits_0(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["check", "--rules", str(files / "warn.yml"), str(files / "orders.parquet"), "-o", "json"]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["status"] == "warn"


def test_exit_1_and_json_document(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "check",
            "--rules",
            str(files / "fail.yml"),
            str(files / "orders.parquet"),
            "--output",
            "json",
            "--samples",
            "1",
        ]
    )
    assert code == 1
    document = json.loads(capsys.readouterr().out)
    assert list(document) == ["dataset", "rows", "status", "duration_s", "checks"]
    assert (document["dataset"], document["rows"], document["status"]) == ("orders", 4, "fail")
    unique, amount = document["checks"]
    assert unique == {
        "name": "id_unique",
        "type": "unique",
        "column": "order_id",
        "status": "fail",
        "failed_rows": 2,
        "failed_percent": 50.0,
        "observed_value": 2,
        "threshold": {"max_failed_rows": 0},
        "samples": [{"order_id": 2, "duplicate_count": 2}],
    }
    assert amount["status"] == "warn"
    assert amount["samples"] == [{"order_id": 2, "amount": -1.0}]


@pytest.mark.parametrize(
    ("rules", "dataset", "message"),
    [
        ("missing.yml", "orders.parquet", "missing.yml: cannot read rule file"),
        ("unknown_key.yml", "orders.parquet", "unknown_key.yml: checks[1].colum: unknown key"),
        (
            "unknown_column.yml",
            "orders.parquet",
            "checks[0] (not_null_amout): column 'amout' not found in dataset",
        ),
        ("pass.yml", "nowhere.parquet", "nowhere.parquet: no such Parquet file"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    files: Path, capsys: pytest.CaptureFixture[str], rules: str, dataset: str, message: str
) -> None:
    (files / "unknown_key.yml").write_text(
        "checks:\n  - {type: row_count, min: 1}\n  - {type: not_null, colum: amount}\n"
    )
    (files / "unknown_column.yml").write_text("checks:\n  - {type: not_null, column: amout}\n")
    code = main(["check", "--rules", str(files / rules), str(files / dataset)])
    err = capsys.readouterr().err
    assert code == 2
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0]
    assert "Traceback" not in err


def test_bad_option_values_exit_2(files: Path) -> None:
    base = ["check", "--rules", str(files / "pass.yml"), str(files / "orders.parquet")]
    assert main([*base, "--engine", "pandas"]) == 2
    assert main([*base, "--samples", "-1"]) == 2


def test_report_option_writes_html(files: Path) -> None:
    pytest.importorskip("lakegate.quality.report")
    report = files / "out" / "report.html"
    code = main(
        [
            "check",
            "--rules",
            str(files / "fail.yml"),
            str(files / "orders.parquet"),
            "--report",
            str(report),
        ]
    )
    assert code == 1
    assert "id_unique" in report.read_text()


def test_lake_option_resolves_table_names(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = files / "lake" / "orders" / "2026" / "01" / "01"
    table.mkdir(parents=True)
    (table / "x.parquet").write_bytes((files / "orders.parquet").read_bytes())
    code = main(
        [
            "check",
            "--rules",
            str(files / "pass.yml"),
            "orders",
            "--lake",
            str(files / "lake"),
            "-o",
            "json",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["rows"] == 4


def test_real_process_exit_code(files: Path) -> None:
    """The installed console script, as a process: exit code 1 and JSON on stdout."""
    env = {**os.environ, "LAKEGATE_LAKE_URL": str(files / "lake")}
    script = Path(sys.executable).parent / "lakegate"
    done = subprocess.run(
        [
            str(script),
            "check",
            "--rules",
            str(files / "fail.yml"),
            str(files / "orders.parquet"),
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["status"] == "fail"
