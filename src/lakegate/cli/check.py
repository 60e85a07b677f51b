"""``lakegate check``: validate a dataset against a rule file.

Thin: parse options, call :func:`lakegate.quality.service.check`, present the result.
Exit 0 when no error-severity check failed, 1 when one did, 2 for bad input (rules,
columns, dataset path), via the root error handler.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lakegate.cli.common import LakeOption, Output, OutputOption, emit_json, stderr, stdout
from lakegate.errors import ConfigError

if TYPE_CHECKING:
    from lakegate.quality.results import QualityResult

_STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "magenta"}


class EngineName(StrEnum):
    """Engines selectable with ``--engine``."""

    duckdb = "duckdb"
    spark = "spark"
    sql = "sql"


def _short(value: Any, width: int = 48) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _print_table(result: QualityResult) -> None:
    from rich.table import Table  # only for terminal output: JSON runs skip its import

    table = Table(title=f"{result.dataset}: {result.rows} rows", title_justify="left")
    table.add_column("check", no_wrap=True)
    table.add_column("type", no_wrap=True)
    for header in ("column", "status", "failed rows", "failed %", "observed"):
        table.add_column(header, overflow="fold")
    data = result.to_dict()
    for check, item in zip(result.checks, data["checks"], strict=True):
        style = _STATUS_STYLE.get(check.status, "")
        percent = item["failed_percent"]
        table.add_row(
            check.name,
            check.type,
            check.column or "",
            f"[{style}]{check.status}[/{style}]",
            "" if item["failed_rows"] is None else str(item["failed_rows"]),
            "" if percent is None else f"{percent:g}",
            _short(item["observed_value"]) if check.status != "error" else _short(check.message),
        )
    stdout.print(table)
    style = _STATUS_STYLE.get(result.status, "")
    failed = ", ".join(result.failed_checks) or "none"
    stdout.print(
        f"status [{style}]{result.status}[/{style}] · {len(result.checks)} checks · "
        f"not passing: {failed} · {result.duration_s:.2f}s",
        highlight=False,
    )
    for check in result.checks:
        if check.samples:
            stdout.print(f"[bold]{check.name}[/bold] failed rows (first {len(check.samples)}):")
            for sample in check.samples:
                stdout.print(f"  {sample}", highlight=False, markup=False)


def _write_report(result: QualityResult, path: Path) -> None:
    try:
        from lakegate.quality.report import write_report
    except ImportError as exc:  # the report module ships with the quality extras
        raise ConfigError(f"--report {path}: HTML reports are not available ({exc})") from exc
    write_report(result, path)


def check_command(
    dataset: Annotated[
        str,
        typer.Argument(
            help="Lake table name (under --lake), Parquet file, glob or folder, az:// path, "
            "or database URL + '#table' (postgresql://host/db#orders, sqlite:///f.db#orders) "
            "for pushdown.",
            show_default=False,
        ),
    ],
    rules: Annotated[
        Path,
        typer.Option("--rules", "-r", help="Rule file (YAML).", show_default=False),
    ],
    engine: Annotated[
        EngineName,
        typer.Option(
            "--engine",
            "-e",
            help="duckdb (default, Parquet), spark (large datasets), sql (database pushdown; "
            "chosen automatically for database URLs).",
        ),
    ] = EngineName.duckdb,
    output: OutputOption = Output.table,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", help="Also write a single-file HTML report here.", show_default=False
        ),
    ] = None,
    samples: Annotated[
        int,
        typer.Option("--samples", min=0, help="Failed-row samples per failing check (0: none)."),
    ] = 10,
    lake: LakeOption = None,
) -> None:
    """Validate DATASET with the checks of a rule file.

    Exit code 0: no error-severity check failed; 1: at least one did; 2: bad input
    (unreadable rules, unknown column, bad dataset path).
    """
    from lakegate.cli.common import load_settings
    from lakegate.quality.service import check

    settings = load_settings(lake)
    if stderr.is_terminal and output is Output.table:
        with stderr.status(f"checking {dataset} with {rules}…"):
            result = check(rules, dataset, settings=settings, engine=engine.value, samples=samples)
    else:
        result = check(rules, dataset, settings=settings, engine=engine.value, samples=samples)
    if report is not None:
        _write_report(result, report)
    if output is Output.json:
        emit_json(result.to_dict())
    else:
        _print_table(result)
        if report is not None:
            stdout.print(f"report written to {report}")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    """Add ``lakegate check`` to the root app."""
    app.command("check")(check_command)
