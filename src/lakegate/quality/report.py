"""Single-file HTML report of one quality run.

The report is one self-contained HTML document (inline CSS and SVG, no scripts, no
external assets) so it can be mailed, attached to a ticket or opened from a lake folder:
a summary (dataset, rows, status, duration), one row per check coloured by status, a
table of failed-row samples per failing check and a bar chart of failure percentages.

Every value is escaped by Jinja2's autoescape: dataset contents end up in the samples,
and a report must never execute what a source system put in a column.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from lakegate.errors import ConfigError

__all__ = ["render_report", "write_report"]

_STATUS_ORDER = {"error": 0, "fail": 1, "warn": 2, "pass": 3}

# Chart geometry (pixels): one bar per check, labels left, percentages right.
_CHART_LABEL_W = 220
_CHART_BAR_W = 360
_CHART_ROW_H = 22


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("lakegate.quality", "templates"),
        autoescape=True,  # every value, whatever the template name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _as_dict(result: Any) -> dict[str, Any]:
    """Accept a result object (``to_dict()``), a pydantic model or the JSON dict itself.

    The JSON shape leaves out a check's severity and message and the engine; a result
    object still has them, and the report shows them.
    """
    if isinstance(result, Mapping):
        return dict(result)
    for attr in ("to_dict", "model_dump"):
        method = getattr(result, attr, None)
        if callable(method):
            data = method()
            if isinstance(data, Mapping):
                data = dict(data)
                break
    else:
        raise ConfigError(f"cannot render a report from a {type(result).__name__}")
    if getattr(result, "engine", None):
        data.setdefault("engine", result.engine)
    objects = getattr(result, "checks", None)
    if isinstance(objects, list) and len(objects) == len(data.get("checks") or []):
        enriched = []
        for obj, check in zip(objects, data["checks"], strict=True):
            extra = {k: getattr(obj, k, None) for k in ("severity", "message")}
            enriched.append({**{k: v for k, v in extra.items() if v}, **check})
        data["checks"] = enriched
    return data


def _fmt_value(value: Any) -> str:
    """Human-readable text for an observed value, threshold or sample cell."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return f"{value:.6g}"
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=str, sort_keys=True)
    return str(value)


def _fmt_optional(value: Any) -> str:
    """Like :func:`_fmt_value`, but an absent value is an empty cell, not ``NULL``."""
    return "" if value is None else _fmt_value(value)


def _fmt_percent(value: Any) -> str:
    """``12.50%``; tiny non-zero shares keep two significant digits (``0.0002%``), so a
    failing check never reads as 0.00 %."""
    if value is None:
        return ""
    try:
        pct = float(value)
    except (TypeError, ValueError):
        return str(value)
    if 0 < abs(pct) < 0.01:
        digits = min(12, 1 - math.floor(math.log10(abs(pct))))
        return f"{pct:.{digits}f}".rstrip("0") + "%"
    return f"{pct:.2f}%"


def _fmt_count(value: Any) -> str:
    """Row counts with thousands separators (``1,000,000``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return _fmt_optional(value)


def _sample_table(samples: Any) -> tuple[list[str], list[list[str]]]:
    """Columns and rows of a samples list (dicts or sequences), order of first appearance."""
    if not samples:
        return [], []
    rows = list(samples)
    if all(isinstance(row, Mapping) for row in rows):
        columns: list[str] = []
        for row in rows:
            for key in row:
                if key not in columns:
                    columns.append(str(key))
        return columns, [[_fmt_value(row.get(col)) for col in columns] for row in rows]
    width = max(
        len(row) if isinstance(row, Sequence) and not isinstance(row, str) else 1 for row in rows
    )
    columns = [f"#{i + 1}" for i in range(width)]
    table = [
        [_fmt_value(v) for v in row]
        if isinstance(row, Sequence) and not isinstance(row, str)
        else [_fmt_value(row)]
        for row in rows
    ]
    return columns, table


def _chart(checks: list[dict[str, Any]]) -> dict[str, Any]:
    """Bars of failure percentage per check, scaled to 100 %."""
    bars = []
    for i, check in enumerate(checks):
        try:
            pct = float(check.get("failed_percent") or 0.0)
        except (TypeError, ValueError):
            pct = 0.0
        pct = min(max(pct, 0.0), 100.0)
        width = round(_CHART_BAR_W * pct / 100.0, 1)
        # A failing check with a tiny percentage still gets a visible sliver.
        if pct > 0 and width < 2:
            width = 2.0
        bars.append(
            {
                "y": i * _CHART_ROW_H,
                "label": str(check.get("name", "")),
                "width": width,
                "status": check["status"],
                "text": _fmt_percent(pct),
            }
        )
    return {
        "bars": bars,
        "label_w": _CHART_LABEL_W,
        "bar_w": _CHART_BAR_W,
        "row_h": _CHART_ROW_H,
        "height": max(len(bars), 1) * _CHART_ROW_H + 4,
        "width": _CHART_LABEL_W + _CHART_BAR_W + 70,
    }


def _view(data: dict[str, Any]) -> dict[str, Any]:
    checks = []
    for raw in data.get("checks") or []:
        check = dict(raw)
        status = str(check.get("status") or "error")
        columns, rows = _sample_table(check.get("samples"))
        column = check.get("column")
        if column is None and check.get("columns"):
            column = ", ".join(str(c) for c in check["columns"])
        checks.append(
            {
                "name": str(check.get("name", "")),
                "type": str(check.get("type", "")),
                "column": "" if column is None else str(column),
                "severity": str(check.get("severity") or ""),
                "status": status if status in _STATUS_ORDER else "error",
                "failed_rows": _fmt_count(check.get("failed_rows")),
                "failed_percent": check.get("failed_percent"),
                "failed_percent_text": _fmt_percent(check.get("failed_percent")),
                "observed": _fmt_optional(check.get("observed_value")),
                "threshold": _fmt_optional(check.get("threshold")),
                "message": str(check.get("message") or check.get("error") or ""),
                "sample_columns": columns,
                "sample_rows": rows,
            }
        )
    counts = {status: 0 for status in _STATUS_ORDER}
    for check in checks:
        counts[check["status"]] += 1
    status = str(data.get("status") or "error")
    duration = data.get("duration_s")
    return {
        "dataset": str(data.get("dataset", "")),
        "rows": _fmt_count(data.get("rows")) if data.get("rows") is not None else "?",
        "status": status if status in _STATUS_ORDER else "error",
        "duration": f"{float(duration):.3f} s" if isinstance(duration, int | float) else "?",
        "engine": str(data.get("engine") or ""),
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "counts": counts,
        "checks": checks,
        "failing": [c for c in checks if c["status"] != "pass" and c["sample_rows"]],
        "chart": _chart(checks),
    }


def render_report(result: Any) -> str:
    """Return the HTML report of ``result`` (a check result or its JSON dict) as a string."""
    data = _as_dict(result)
    template = _environment().get_template("report.html.j2")
    return template.render(**_view(data))


def write_report(result: Any, path: str | Path) -> Path:
    """Write the HTML report of ``result`` to ``path`` (parents created); return the path."""
    target = Path(path)
    html = render_report(result)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write report {target}: {exc.strerror or exc}") from exc
    return target
