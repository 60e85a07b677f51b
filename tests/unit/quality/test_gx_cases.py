"""Correctness against Great Expectations' own test definitions, reproduced in our files.

Each YAML file under ``gx_cases/`` mirrors, for one expectation we cover, the data and the
expected outcome of GX's JSON test definitions (see ``gx_cases/README.md``). Every case runs
through the real quality service on a Parquet file (DuckDB engine). Where Lakegate
deliberately differs from GX, the case says ``ours`` and ``differs`` (documented in
``docs/quality.md``, "Semantics compared with Great Expectations").
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from lakegate.errors import ConfigError
from lakegate.quality.models import parse_rules
from lakegate.quality.service import check as run_check
from lakegate.settings import get_settings

CASES_DIR = Path(__file__).parent / "gx_cases"


def _load_cases() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for dataset in doc["datasets"]:
            for case in dataset["cases"]:
                case_id = f"{path.stem}-{dataset['name']}-{case['title']}"
                params.append(pytest.param(path.stem, dataset, case, id=case_id))
    return params


CASES = _load_cases()


def _expected(case: dict[str, Any]) -> dict[str, Any]:
    """Our expected outcome: ``ours`` where we differ on purpose, GX's otherwise."""
    if "ours" in case:
        assert case.get("differs"), f"{case['title']}: 'ours' needs a 'differs' reason"
        return dict(case["ours"])
    gx = case["gx"]
    if gx.get("error"):
        return {"error": True}
    out: dict[str, Any] = {"success": gx["success"]}
    if "unexpected" in gx:
        out["failed_rows"] = gx["unexpected"]
    if "observed" in gx:
        out["observed"] = gx["observed"]
    return out


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gx_cases")


def _write(path: Path, spec: dict[str, Any]) -> Path:
    if not path.exists():
        columns = {
            name: pa.array(spec["data"][name], type=pa.type_for_alias(type_name))
            for name, type_name in spec["types"].items()
        }
        pq.write_table(pa.table(columns), path)
    return path


def _dataset_file(folder: Path, stem: str, dataset: dict[str, Any]) -> Path:
    """The case's Parquet file; other tables it names (``others``) are written beside it."""
    for name, spec in (dataset.get("others") or {}).items():
        _write(folder / f"{stem}__{name}.parquet", spec)
    return _write(folder / f"{stem}__{dataset['name']}.parquet", dataset)


def _bind_others(check: dict[str, Any], folder: Path, stem: str) -> dict[str, Any]:
    """``"${data_2}"`` in a check -> the path of that other table's Parquet file."""
    return {
        key: str(folder / f"{stem}__{value[2:-1]}.parquet")
        if isinstance(value, str) and value.startswith("${") and value.endswith("}")
        else value
        for key, value in check.items()
    }


def test_case_files_are_well_formed() -> None:
    assert len(CASES) >= 100
    stems = {p.values[0] for p in CASES}
    assert {"not_null", "unique", "between", "in_set", "not_in_set", "regex"} <= stems
    assert {"lengths", "row_count", "aggregates", "compound_unique"} <= stems
    assert {"column_pairs", "row_count_other_table"} <= stems
    for param in CASES:
        _stem, dataset, case = param.values
        assert set(dataset["data"]) == set(dataset["types"]), dataset["name"]
        assert "check" in case and "gx" in case, case["title"]
        if "ours" in case:
            assert case["ours"] != case["gx"], f"{case['title']}: 'ours' equals GX's outcome"


@pytest.mark.parametrize(("stem", "dataset", "case"), CASES)
def test_gx_case(
    stem: str, dataset: dict[str, Any], case: dict[str, Any], parquet_dir: Path
) -> None:
    expected = _expected(case)
    check = _bind_others(case["check"], parquet_dir, stem)
    rules = {"dataset": dataset["name"], "checks": [{"name": "case", **check}]}
    if expected.get("error"):
        with pytest.raises(ConfigError):
            run_check(parse_rules(rules, source=case["title"]), "unused", settings=get_settings())
        return
    path = _dataset_file(parquet_dir, stem, dataset)
    result = run_check(parse_rules(rules, source=case["title"]), str(path), settings=get_settings())
    (check,) = result.checks
    assert check.status != "error", check.message
    assert (check.status == "pass") is expected["success"], (check.to_dict(), expected)
    if "failed_rows" in expected:
        assert check.failed_rows == expected["failed_rows"], check.to_dict()
    if "observed" in expected:
        observed, want = check.observed_value, expected["observed"]
        if want is None or observed is None:
            assert observed is want, check.to_dict()
        else:
            assert math.isclose(float(observed), float(want), rel_tol=1e-9), check.to_dict()
