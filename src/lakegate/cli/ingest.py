"""``lakegate ingest`` and ``lakegate demo``: parse, call :mod:`lakegate.ingest`, present."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lakegate.cli.common import (
    LakeOption,
    Output,
    OutputOption,
    emit_json,
    load_settings,
    stderr,
    stdout,
)
from lakegate.errors import ConfigError, ExitCode
from lakegate.settings import Settings

if TYPE_CHECKING:
    from lakegate.ingest.models import IngestJob
    from lakegate.ingest.runner import RunReport

WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        "-w",
        min=1,
        max=64,
        help="Jobs run in parallel. Default: $LAKEGATE_WORKERS or 4.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``ingest`` and ``demo`` to the root app."""
    app.command("ingest")(ingest)
    app.command("demo")(demo)


def ingest(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Job workbook (.xlsx, sheet 'jobs') or YAML file (jobs: list). "
            "Default: $LAKEGATE_CONFIG.",
            show_default=False,
        ),
    ] = None,
    job: Annotated[
        list[str] | None,
        typer.Option(
            "--job",
            "-j",
            help="Run only this job_id (repeatable); named jobs run even when disabled.",
            show_default=False,
        ),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            "--source", "-s", help="Run only jobs of this source_name.", show_default=False
        ),
    ] = None,
    lake: LakeOption = None,
    workers: WorkersOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Validate the configuration and list the jobs that would run; load nothing.",
        ),
    ] = False,
    output: OutputOption = Output.table,
) -> None:
    """Run the ingestion jobs of a workbook or YAML file into the lake.

    The whole file is validated first: any problem is printed (one line each) and
    nothing runs (exit 2). Then the selected jobs run in parallel; exit 0 when all
    succeeded, 1 when any failed. One row per job is appended to
    <metadata_dir>/audit_YYYYMMDD.csv.
    """
    from lakegate.ingest.config import load_jobs, select_jobs

    settings = _settings(lake, workers)
    path = config or settings.config
    if path is None:
        raise ConfigError(
            "no job configuration: pass --config FILE or set LAKEGATE_CONFIG "
            "(an ingestion_config.xlsx workbook or a YAML file)"
        )
    jobs = select_jobs(load_jobs(path), job_ids=job or (), source=source, config_name=path.name)
    if dry_run:
        _present_plan(jobs, output)
        return
    # Imported only now: a bad configuration is reported without loading dlt.
    from lakegate.ingest.pipeline import check_credentials
    from lakegate.ingest.runner import run_jobs

    check_credentials(jobs)
    from lakegate.ingest.summary import make_progress

    with make_progress(stderr) as progress:
        report = run_jobs(jobs, settings=settings, workers=settings.workers, progress=progress)
    _present(report, output, verbose=_verbose(ctx))
    raise typer.Exit(int(report.exit_code))


def demo(
    ctx: typer.Context,
    directory: Annotated[
        Path,
        typer.Option(
            "--dir",
            "-d",
            help="Folder of the sample database, its job config and rules "
            "(reused when it exists: delete it to rebuild).",
        ),
    ] = Path("demo"),
    rows: Annotated[
        int,
        typer.Option("--rows", "-n", min=1, help="Orders in a newly built sample database."),
    ] = 2000,
    lake: LakeOption = None,
    workers: WorkersOption = None,
    output: OutputOption = Output.table,
) -> None:
    """Build a sample ERP database (SQLite), ingest it into the lake and validate it.

    Writes DIR/erp.sqlite (customers, orders, order_lines), DIR/ingestion_config.yml,
    DIR/rules/*.yml and DIR/.dlt/secrets.toml, then runs the jobs like `lakegate ingest`
    into ./lake (or --lake). Run it again: the INCREMENTAL jobs find 0 new rows and the
    FULL job replaces its table.
    """
    from lakegate.demo import prepare_demo, run_demo
    from lakegate.ingest.summary import make_progress

    settings = _settings(lake, workers)
    setup = prepare_demo(directory, rows=rows)
    database, config = setup.database, setup.config
    if output is Output.table:
        built = "built" if database.created else "reused"
        counts = ", ".join(f"{t} {n:,}" for t, n in database.counts.items())
        stderr.print(
            f"sample database {built}: {database.path} ({counts}); jobs: {config}; "
            f"lake: {settings.lake.url}",
            highlight=False,
            markup=False,
        )
    with make_progress(stderr) as progress:
        report = run_demo(setup, settings=settings, workers=settings.workers, progress=progress)
    _present(
        report,
        output,
        verbose=_verbose(ctx),
        extra={
            "database": str(database.path),
            "database_created": database.created,
            "row_counts": database.counts,
            "config": str(config),
            "lake": settings.lake.url,
        },
    )
    raise typer.Exit(int(report.exit_code))


def _present_plan(jobs: list[IngestJob], output: Output) -> None:
    """The jobs a run would execute (``--dry-run``)."""
    if output is Output.json:
        emit_json({"jobs": [j.model_dump(mode="json") for j in jobs]})
        return
    for j in jobs:
        watermark = f" on {j.watermark_column}" if j.watermark_column else ""
        stdout.print(
            f"{j.job_id}: {j.load_type}{watermark} {j.source_type}:{j.source_name} "
            f"{'.'.join(p for p in (j.schema_name, j.table_name) if p)} -> {j.target}",
            highlight=False,
            markup=False,
        )
    stdout.print(f"{len(jobs)} jobs would run; nothing loaded (--dry-run)", highlight=False)


def _settings(lake: str | None, workers: int | None) -> Settings:
    settings = load_settings(lake)
    if workers is not None:
        settings.workers = workers
    return settings


def _verbose(ctx: typer.Context) -> bool:
    return bool(ctx.find_root().params.get("verbose"))


def _present(
    report: RunReport, output: Output, *, verbose: bool, extra: dict[str, object] | None = None
) -> None:
    from lakegate.ingest.summary import render_plain, render_table, report_to_dict

    if verbose:
        for result in report.failed:
            trace = result.extra.get("traceback")
            if trace:
                from lakegate.observability.redact import redact

                stderr.print(redact(str(trace)), highlight=False, markup=False)
    if output is Output.json:
        emit_json({**(extra or {}), **report_to_dict(report)})
    elif stdout.is_terminal:
        render_table(report, stdout)
    else:
        render_plain(report, sys.stdout)
    if report.exit_code != ExitCode.OK:
        stderr.print(
            f"{len(report.failed)} of {len(report.results)} jobs failed",
            highlight=False,
            markup=False,
        )
