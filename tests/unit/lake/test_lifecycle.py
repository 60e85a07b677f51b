"""Lifecycle rules: YAML validation, Azure management-policy rendering, local runs."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lakegate.cli import main
from lakegate.errors import ConfigError, MultipleConfigError
from lakegate.lake.lifecycle import (
    MAX_RULES,
    Action,
    load_lifecycle,
    parse_lifecycle,
    render_management_policy,
    run_lifecycle,
)
from lakegate.lake.storage import Lake
from lakegate.settings import get_settings

RULES_YAML = """
lifecycle:
  - name: ordersTiering
    prefix: orders/
    cool_after_days: 30
    archive_after_days: 90
    delete_after_days: 365
  - name: tmpCleanup
    prefix: tmp/
    delete_after_days: 7
"""

DAY = 86400


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "lifecycle.yml"
    path.write_text(RULES_YAML)
    return path


def _azure_lake(url: str = "az://raw-data") -> Lake:
    # Rendering needs no network: only the lake's container and prefix are used.
    return Lake(url=url, protocol="az", root=url.split("://", 1)[1])


def _validate_management_policy(doc: dict) -> None:
    """The documented structure of a storage management policy (properties.policy)."""
    assert set(doc) == {"policy"}
    rules = doc["policy"]["rules"]
    assert 1 <= len(rules) <= 100
    names = [r["name"] for r in rules]
    assert len(set(names)) == len(names)
    for rule in rules:
        assert set(rule) == {"enabled", "name", "type", "definition"}
        assert rule["type"] == "Lifecycle"
        assert isinstance(rule["enabled"], bool)
        assert rule["name"].isalnum()
        filters, actions = rule["definition"]["filters"], rule["definition"]["actions"]
        assert filters["blobTypes"] == ["blockBlob"]
        assert all(isinstance(p, str) and p for p in filters["prefixMatch"])
        base = actions["baseBlob"]
        assert base and set(base) <= {"tierToCool", "tierToArchive", "delete"}
        for action in base.values():
            assert set(action) == {"daysAfterModificationGreaterThan"}
            assert isinstance(action["daysAfterModificationGreaterThan"], int)


def test_render_produces_the_documented_management_policy(rules_file: Path) -> None:
    doc = render_management_policy(load_lifecycle(rules_file), _azure_lake())
    _validate_management_policy(doc)
    first, second = doc["policy"]["rules"]
    assert first["definition"]["filters"]["prefixMatch"] == ["raw-data/orders/"]
    assert first["definition"]["actions"]["baseBlob"] == {
        "tierToCool": {"daysAfterModificationGreaterThan": 30},
        "tierToArchive": {"daysAfterModificationGreaterThan": 90},
        "delete": {"daysAfterModificationGreaterThan": 365},
    }
    assert second["definition"]["actions"]["baseBlob"] == {
        "delete": {"daysAfterModificationGreaterThan": 7}
    }


def test_prefixes_start_with_container_and_lake_prefix(rules_file: Path) -> None:
    doc = render_management_policy(
        load_lifecycle(rules_file), _azure_lake("az://raw-data/acme/prod")
    )
    prefixes = [r["definition"]["filters"]["prefixMatch"][0] for r in doc["policy"]["rules"]]
    assert prefixes == ["raw-data/acme/prod/orders/", "raw-data/acme/prod/tmp/"]
    whole = parse_lifecycle([{"name": "all", "delete_after_days": 5}])
    assert render_management_policy(whole, _azure_lake())["policy"]["rules"][0]["definition"][
        "filters"
    ]["prefixMatch"] == ["raw-data/"]


def test_render_refuses_a_local_lake(tmp_path: Path, rules_file: Path) -> None:
    with pytest.raises(ConfigError, match="only on Azure"):
        render_management_policy(load_lifecycle(rules_file), Lake.from_url(str(tmp_path)))


def test_at_most_100_rules() -> None:
    rules = [
        {"name": f"r{i}", "prefix": f"t{i}/", "delete_after_days": 1} for i in range(MAX_RULES)
    ]
    assert len(parse_lifecycle(rules).rules) == MAX_RULES
    with pytest.raises(MultipleConfigError, match="at most 100"):
        parse_lifecycle([*rules, {"name": "extra", "delete_after_days": 1}])


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"name": "bad-name", "delete_after_days": 1}, "rule 1 (bad-name), field name"),
        ({"name": "noAction"}, "give at least one of"),
        ({"name": "order", "cool_after_days": 90, "archive_after_days": 30}, "must be less than"),
        ({"name": "neg", "delete_after_days": -1}, "field delete_after_days"),
        ({"name": "esc", "prefix": "../x", "delete_after_days": 1}, "relative to the lake root"),
        ({"name": "typo", "delete_after_day": 1}, "field delete_after_day"),
    ],
)
def test_bad_rules_name_the_rule_and_field(tmp_path: Path, rule: dict, message: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(json.dumps({"lifecycle": [rule]}))
    with pytest.raises(MultipleConfigError) as info:
        load_lifecycle(path)
    assert any(message in p and str(path) in p for p in info.value.problems), info.value.problems


def test_duplicate_names_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(MultipleConfigError, match="used twice"):
        parse_lifecycle([{"name": "a", "delete_after_days": 1}] * 2)
    path = tmp_path / "broken.yml"
    path.write_text("lifecycle: [\n")
    with pytest.raises(ConfigError, match=r"broken\.yml: not valid YAML"):
        load_lifecycle(path)
    with pytest.raises(ConfigError, match="not found"):
        load_lifecycle(tmp_path / "missing.yml")


def _file(root: Path, rel: str, age_days: float) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    stamp = time.time() - age_days * DAY
    os.utime(path, (stamp, stamp))
    return path


@pytest.fixture
def aged_lake(tmp_path: Path) -> Path:
    root = tmp_path / "lake"
    _file(root, "orders/2025/01/01/old.parquet", 400)  # delete
    _file(root, "orders/2025/06/01/archive.parquet", 120)  # archive
    _file(root, "orders/2025/09/01/cool.parquet", 45)  # cool
    _file(root, "orders/2025/11/01/fresh.parquet", 3)  # nothing
    _file(root, "orders/2025/11/02/edge.parquet", 29.99)  # not *greater* than 30 days
    _file(root, "tmp/scratch.csv", 8)  # delete (tmpCleanup)
    _file(root, "customers/2020/01/01/c.parquet", 2000)  # no rule
    return root


def test_run_applies_rules_by_age(aged_lake: Path, rules_file: Path) -> None:
    lake = Lake.from_url(str(aged_lake))
    actions = {a.path: a for a in run_lifecycle(lake, load_lifecycle(rules_file))}
    assert {p: a.action for p, a in actions.items()} == {
        "orders/2025/01/01/old.parquet": Action.delete,
        "orders/2025/06/01/archive.parquet": Action.archive,
        "orders/2025/09/01/cool.parquet": Action.cool,
        "tmp/scratch.csv": Action.delete,
    }
    assert actions["tmp/scratch.csv"].rule == "tmpCleanup"
    assert not (aged_lake / "orders/2025/01/01/old.parquet").exists()
    assert not (aged_lake / "tmp/scratch.csv").exists()
    assert not (aged_lake / "orders/2025/06/01/archive.parquet").exists()
    assert (aged_lake / "_archive/orders/2025/06/01/archive.parquet").exists()
    for kept in (
        "orders/2025/09/01/cool.parquet",
        "orders/2025/11/01/fresh.parquet",
        "orders/2025/11/02/edge.parquet",
        "customers/2020/01/01/c.parquet",
    ):
        assert (aged_lake / kept).exists(), kept
    # A second run finds nothing new to delete or archive (archived files are left alone).
    again = run_lifecycle(lake, load_lifecycle(rules_file))
    assert [a.action for a in again] == [Action.cool]


def test_dry_run_changes_nothing(aged_lake: Path, rules_file: Path) -> None:
    before = sorted(p.relative_to(aged_lake) for p in aged_lake.rglob("*") if p.is_file())
    actions = run_lifecycle(Lake.from_url(str(aged_lake)), load_lifecycle(rules_file), dry_run=True)
    assert len(actions) == 4
    assert not any(a.done for a in actions)
    after = sorted(p.relative_to(aged_lake) for p in aged_lake.rglob("*") if p.is_file())
    assert before == after


def test_run_uses_the_given_clock(aged_lake: Path, rules_file: Path) -> None:
    lake = Lake.from_url(str(aged_lake))
    past = datetime.fromtimestamp(time.time() - 1000 * DAY, UTC)
    assert run_lifecycle(lake, load_lifecycle(rules_file), dry_run=True, now=past) == []


def test_cli_run_dry_run_json_then_run(
    aged_lake: Path, rules_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["lake", "lifecycle", "run", "--rules", str(rules_file), "--lake", str(aged_lake)]
    assert main([*args, "--dry-run", "--output", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dry_run"] is True
    assert {a["path"]: a["action"] for a in doc["actions"]}["tmp/scratch.csv"] == "delete"
    assert (aged_lake / "tmp/scratch.csv").exists()

    assert main(args) == 0
    out = capsys.readouterr().out
    assert "[tmpCleanup] deleted tmp/scratch.csv" in out
    assert "archived orders/2025/06/01/archive.parquet -> _archive/" in out
    assert not (aged_lake / "tmp/scratch.csv").exists()


def test_cli_bad_rules_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("lifecycle:\n  - name: x\n")
    assert main(["lake", "lifecycle", "run", "--rules", str(bad), "--lake", str(tmp_path)]) == 2
    assert "rule 1 (x)" in capsys.readouterr().err
    assert main(["lake", "lifecycle", "run", "--lake", str(tmp_path)]) == 2
    assert "--rules" in capsys.readouterr().err


def test_cli_render_needs_an_azure_lake(
    tmp_path: Path, rules_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["lake", "lifecycle", "render", "--rules", str(rules_file), "--lake", str(tmp_path)])
        == 2
    )
    assert "only on Azure" in capsys.readouterr().err


def test_settings_reach_lifecycle_file(monkeypatch: pytest.MonkeyPatch, rules_file: Path) -> None:
    monkeypatch.setenv("LAKEGATE_AZURE_LIFECYCLE_FILE", str(rules_file))
    assert get_settings().azure.lifecycle_file == str(rules_file)
