"""docs/quality.md stays true: every YAML example parses, every check type has an example,
the printed plan example prints what the page says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import yaml

from lakegate.quality.models import parse_rules
from lakegate.quality.registry import BUILTIN_CHECKS

DOC = Path(__file__).resolve().parents[3] / "docs" / "quality.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_every_yaml_example_is_a_valid_rule_file() -> None:
    blocks = _blocks("yaml")
    assert len(blocks) >= 17
    seen: set[str] = set()
    for block in blocks:
        rules = parse_rules(yaml.safe_load(block), source="docs/quality.md")
        seen.update(check.type for check in rules.checks)
    assert seen == {check.type for check in BUILTIN_CHECKS}


def test_every_check_type_has_a_section() -> None:
    text = DOC.read_text(encoding="utf-8")
    for check in BUILTIN_CHECKS:
        assert re.search(rf"^### .*\b{check.type}\b", text, re.M), check.type


def test_plan_example_prints_what_the_page_says() -> None:
    block = next(b for b in _blocks("python") if "compile_rules" in b)
    expected = re.search(r"^# (SELECT .*)$", block, re.M)
    assert expected is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "docs/quality.md", "exec"), {})
    assert out.getvalue().strip() == expected.group(1)


def test_every_duckdb_setting_is_documented() -> None:
    from lakegate.settings import DuckDBSettings

    text = DOC.read_text(encoding="utf-8")
    for name in DuckDBSettings.model_fields:
        assert f"`LAKEGATE_DUCKDB_{name.upper()}`" in text, name
