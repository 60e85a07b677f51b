"""``lakegate rules import dbt|gx ...``: convert other tools' tests into rule files."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from lakegate.cli.common import Output, emit_json, stderr, stdout
from lakegate.errors import ConfigError, ExitCode

_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")

OutOption = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="Where to write: a .yml file (one dataset) or a folder (one <dataset>.yml each). "
        "Default: print the YAML on stdout.",
        show_default=False,
    ),
]
FormatOption = Annotated[
    Output,
    typer.Option(
        "--output",
        help="table: YAML (or file list) on stdout, not-converted tests on stderr; "
        "json: one JSON document with rule_sets, files and not_converted.",
    ),
]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Overwrite rule files that already exist.")
]


def _targets(out: Path, datasets: list[str], force: bool) -> dict[str, Path]:
    """Output file per dataset; refuses to overwrite unless forced (nothing is half-written)."""
    if out.suffix.lower() in (".yml", ".yaml") and not out.is_dir():
        if len(datasets) > 1:
            raise ConfigError(
                f"{out}: the input has {len(datasets)} datasets ({', '.join(datasets)}); "
                "give a folder to -o"
            )
        targets = {datasets[0]: out}
    else:
        targets = {name: out / f"{_SAFE.sub('_', name)}.yml" for name in datasets}
    existing = [str(path) for path in targets.values() if path.exists()]
    if existing and not force:
        raise ConfigError(f"{existing[0]}: already exists (use --force to overwrite)")
    return targets


def _present(result: object, out: Path | None, output: Output, force: bool) -> int:
    from lakegate.quality.importers import ImportResult, dump_rules

    assert isinstance(result, ImportResult)
    datasets = list(result.rule_sets)
    files: dict[str, Path] = {}
    if out is not None and datasets:
        files = _targets(out, datasets, force)
        for name, path in files.items():
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(dump_rules(result.rule_sets[name]), encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"{path}: cannot write ({exc.strerror or exc})") from exc
    if output is Output.json:
        emit_json({**result.to_dict(), "files": {k: str(v) for k, v in files.items()}})
    else:
        if files:
            for name, path in files.items():
                count = len(result.rule_sets[name].checks)
                stdout.print(f"wrote {path} ({count} checks)", highlight=False)
        else:
            docs = [dump_rules(result.rule_sets[name]) for name in datasets]
            stdout.out("---\n".join(docs), end="", highlight=False)
        if result.not_converted:
            stderr.print(f"{len(result.not_converted)} test(s) not converted:", highlight=False)
            for item in result.not_converted:
                stderr.print(f"  - {item}", highlight=False, markup=False)
    if not datasets and result.not_converted:
        stderr.print("nothing could be converted", highlight=False)
        return int(ExitCode.FAILED)
    return int(ExitCode.OK)


def import_dbt_command(
    schema_file: Annotated[Path, typer.Argument(help="A dbt schema.yml (models/sources).")],
    out: OutOption = None,
    output: FormatOption = Output.table,
    force: ForceOption = False,
) -> int:
    """Convert a dbt schema file's data tests into Lakegate rule files (one per model)."""
    from lakegate.quality.importers.dbt import import_dbt

    code = _present(import_dbt(schema_file), out, output, force)
    if code:
        raise typer.Exit(code)
    return code


def import_gx_command(
    suite_file: Annotated[Path, typer.Argument(help="A Great Expectations suite (JSON).")],
    out: OutOption = None,
    output: FormatOption = Output.table,
    force: ForceOption = False,
    dataset: Annotated[
        str | None,
        typer.Option("--dataset", help="Dataset name of the rule file (default: the suite name)."),
    ] = None,
) -> int:
    """Convert a Great Expectations suite's expectations into a Lakegate rule file."""
    from lakegate.quality.importers.gx import import_gx

    code = _present(import_gx(suite_file, dataset=dataset), out, output, force)
    if code:
        raise typer.Exit(code)
    return code


def register(app: typer.Typer) -> None:
    """Add ``lakegate rules ...`` to the root app."""
    rules = typer.Typer(help="Work with rule files.", no_args_is_help=True)
    importer = typer.Typer(
        help="Convert dbt tests or a Great Expectations suite into rule files; "
        "tests that cannot be converted are listed, never dropped.",
        no_args_is_help=True,
    )
    importer.command("dbt")(import_dbt_command)
    importer.command("gx")(import_gx_command)
    rules.add_typer(importer, name="import")
    app.add_typer(rules, name="rules")
