"""The HTML quality report: structure, escaping, colours, chart, and a real browser render."""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from lakegate.errors import ConfigError
from lakegate.quality.report import render_report, write_report

CHROMIUM = "/usr/bin/chromium"


def _result() -> dict[str, Any]:
    return {
        "dataset": "orders<&>",
        "rows": 1000,
        "status": "fail",
        "duration_s": 0.25,
        "checks": [
            {
                "name": "id_unique",
                "type": "unique",
                "column": "order_id",
                "status": "fail",
                "failed_rows": 4,
                "failed_percent": 0.4,
                "observed_value": 4,
                "threshold": None,
                "samples": [{"order_id": 1}, {"order_id": "<script>alert('x')</script>"}],
            },
            {
                "name": "amount_range",
                "type": "between",
                "column": "amount",
                "status": "warn",
                "failed_rows": 120,
                "failed_percent": 12.0,
                "observed_value": 0.88,
                "threshold": {"mostly": 0.99},
                "samples": [{"order_id": 5, "amount": -3.5}],
            },
            {
                "name": "email_ok",
                "type": "regex",
                "column": "email",
                "status": "pass",
                "failed_rows": 0,
                "failed_percent": 0.0,
                "samples": [],
            },
        ],
    }


class _Collector(HTMLParser):
    """Collects the tags, attributes and text of a document (strict enough to catch breakage)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in {"meta", "br", "img", "link", "input", "hr"}:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"unbalanced </{tag}> in {self.stack[-3:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Collector:
    parser = _Collector()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], f"unclosed tags: {parser.stack}"
    return parser


def test_report_has_summary_one_row_per_check_and_status_colours() -> None:
    doc = _parse(render_report(_result()))
    rows = [
        attrs for tag, attrs in doc.tags if tag == "tr" and "check" in (attrs.get("class") or "")
    ]
    assert [r["data-status"] for r in rows] == ["fail", "warn", "pass"]
    text = " ".join(doc.text)
    assert "orders<&>" in text  # unescaped back by the parser: it was escaped in the HTML
    assert "1,000" in text and "0.250 s" in text
    assert "12.00%" in text and "0.40%" in text


def test_report_escapes_every_value_and_has_no_script_or_external_asset() -> None:
    html = render_report(_result())
    assert "<script" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "orders&lt;&amp;&gt;" in html
    doc = _parse(html)
    for _tag, attrs in doc.tags:
        for key in ("src", "href"):
            assert key not in attrs, f"external asset reference {attrs}"


def test_report_tiny_failure_share_is_not_shown_as_zero() -> None:
    data = _result()
    data["rows"] = 10_000_000
    data["checks"][0].update(failed_rows=2, failed_percent=0.00002)
    text = " ".join(_parse(render_report(data)).text)
    assert "10,000,000" in text
    assert "0.00002%" in text and "0.00%" not in text.split("email_ok")[0]


def test_report_samples_only_for_failing_checks() -> None:
    doc = _parse(render_report(_result()))
    tables = [a["data-check"] for t, a in doc.tags if t == "table" and a.get("data-check")]
    assert tables == ["id_unique", "amount_range"]


def test_report_chart_bar_widths_follow_failure_percent() -> None:
    doc = _parse(render_report(_result()))
    bars = [a for t, a in doc.tags if t == "rect" and "bar" in (a.get("class") or "").split()]
    widths = [float(a["width"] or 0) for a in bars]
    assert len(widths) == 3
    assert widths[1] == pytest.approx(360 * 0.12, abs=0.1)
    assert widths[0] == 2.0  # 0.4 % is widened to a visible sliver
    assert widths[2] == 0.0
    assert [a["class"] for a in bars] == ["bar fail", "bar warn", "bar pass"]


def test_report_accepts_result_objects_with_to_dict(tmp_path: Path) -> None:
    class Result:
        def to_dict(self) -> dict[str, Any]:
            return _result()

    out = write_report(Result(), tmp_path / "sub" / "r.html")
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_rejects_unknown_result_and_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot render a report from a int"):
        render_report(42)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot write report"):
        write_report(_result(), blocker / "r.html")


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    """Render with a real browser and check the screenshot is a non-trivial PNG.

    Chromium is an optional tool, not a service: ``make test`` installs it where it can
    (Debian's package, as root); where it could not, the test is skipped loudly.
    """
    chromium = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not chromium:
        warnings.warn("SKIPPED: chromium not installed", stacklevel=1)
        pytest.skip("TOOL MISSING: /usr/bin/chromium")
    html = write_report(_result(), tmp_path / "report.html")
    png = tmp_path / "report.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1100,900",
            f"--screenshot={png}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=90,
    )
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert (width, height) == (1100, 900)
    assert len(data) > 20_000  # a blank page compresses to a few KB


def test_report_from_a_real_run_shows_severity_and_samples(tmp_path: Path) -> None:
    """A QualityResult from the service (not a hand-made dict) renders with its details."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lakegate.quality.models import parse_rules
    from lakegate.quality.service import check
    from lakegate.settings import get_settings

    data = tmp_path / "orders.parquet"
    pq.write_table(pa.table({"id": [1, 2, 2, 3], "amount": [5.0, -1.0, 7.0, None]}), data)
    rules = parse_rules(
        {
            "dataset": "orders",
            "keys": ["id"],
            "checks": [
                {"type": "unique", "column": "id"},
                {"type": "between", "column": "amount", "min": 0, "severity": "warn"},
                {"type": "not_null", "column": "id"},
            ],
        }
    )
    result = check(rules, str(data), settings=get_settings(lake={"url": str(tmp_path / "lake")}))
    doc = _parse(render_report(result))
    rows = [a["data-status"] for t, a in doc.tags if t == "tr" and a.get("data-status")]
    assert rows == ["fail", "warn", "pass"]
    text = " ".join(doc.text)
    assert "(warn)" in text and "engine duckdb" in text
    tables = [a["data-check"] for t, a in doc.tags if t == "table" and a.get("data-check")]
    assert tables == ["unique_id", "between_amount"]
