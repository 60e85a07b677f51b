"""The root CLI loads command modules lazily without changing what ``--help`` shows.

``lakegate check`` must not pay for importing the ingestion, lake and platform commands
(and through them dlt, SQLAlchemy, the Azure SDK): start-up time is part of every
validated load. The help of every command must stay exactly what the eager app showed.
"""

from __future__ import annotations

import importlib
import json
import logging
import subprocess
import sys
from collections.abc import Iterator

import pytest
import structlog
import typer
from typer.testing import CliRunner

import lakegate.cli as cli
from lakegate.cli import COMMAND_MODULES, main


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Invoking a command configures structlog on the runner's stream: undo it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _eager_app() -> typer.Typer:
    """The root app as it was built before: every module registered up front."""
    eager = typer.Typer(
        name="lakegate",
        help=cli.app.info.help,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode="rich",
    )
    eager.callback()(cli._root)
    for module_name in COMMAND_MODULES:
        importlib.import_module(f"lakegate.cli.{module_name}").register(eager)
    return eager


def _help_of(app: typer.Typer, path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "120", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return result.output


def _all_command_paths() -> list[list[str]]:
    """Every command and sub-command of the eager app, as argv prefixes."""
    paths: list[list[str]] = [[]]
    root = typer.main.get_group(_eager_app())

    def walk(group: typer.core.TyperGroup, prefix: list[str]) -> None:
        for name, command in group.commands.items():
            paths.append([*prefix, name])
            if isinstance(command, typer.core.TyperGroup):
                walk(command, [*prefix, name])

    walk(root, [])
    return paths


def test_every_help_page_is_unchanged() -> None:
    eager = _eager_app()
    paths = _all_command_paths()
    assert ["check"] in paths and ["lake"] in paths and len(paths) > 12
    for path in paths:
        assert _help_of(cli.app, path) == _help_of(eager, path), " ".join(path) or "root"


def test_every_registered_command_is_mapped_to_its_module() -> None:
    for module_name, names in COMMAND_MODULES.items():
        holder = typer.Typer()
        importlib.import_module(f"lakegate.cli.{module_name}").register(holder)
        registered = set(typer.main.get_group(holder).commands)
        assert registered == set(names), module_name


def test_check_imports_only_its_own_command_module() -> None:
    code = (
        "import json, sys\n"
        "from lakegate.cli import main\n"
        "code = main(['check', '--help'])\n"
        "print(json.dumps([code, sorted(sys.modules)]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    exit_code, modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert exit_code == 0
    cli_modules = {m for m in modules if m.startswith("lakegate.cli.")}
    assert cli_modules == {"lakegate.cli.check", "lakegate.cli.common"}
    heavy = {"dlt", "sqlalchemy", "azure", "fastapi", "click", "lakegate.ingest"}
    assert heavy.isdisjoint(m.split(".")[0] for m in modules)
    assert "lakegate.ingest" not in modules


def test_unknown_command_still_suggests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chekc"]) == 2
    err = capsys.readouterr().err
    assert "No such command 'chekc'" in err and "Did you mean 'check'" in err


def test_root_help_lists_commands_before_groups(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    positions = [out.index(f" {name} ") for name in ("ingest", "check", "serve", "rules", "tenant")]
    assert positions == sorted(positions)
