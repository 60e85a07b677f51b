"""The ``lakegate`` command line: a Typer app whose commands call into the packages.

Every :class:`~lakegate.errors.LakegateError` ends here as one line on stderr and the
error's exit code; a traceback is shown only with ``--verbose``.

Command modules are imported only when one of their commands runs (``lakegate check``
never imports the ingestion, lake or platform commands): start-up time is part of every
validated load. ``lakegate --help`` and unknown names load them all.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from typing import TYPE_CHECKING, Final, Literal

import typer
from typer.core import TyperGroup

from lakegate.cli.common import stderr
from lakegate.errors import ExitCode, LakegateError
from lakegate.observability.redact import redact

if TYPE_CHECKING:
    from typer._click import Command, Context

COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "ingest": ("ingest", "demo"),
    "check": ("check",),
    "rules": ("rules",),
    "lake": ("lake",),
    "secrets": ("secrets",),
    "platform": ("serve", "db", "worker", "scheduler", "tenant"),
}
"""Module under ``lakegate.cli`` (each has ``register(app)``) -> the commands it adds, in
help order. A new command module is added here; its commands load on first use."""

_RICH_MARKUP: Final[Literal["rich"]] = "rich"


class LazyCommandGroup(TyperGroup):
    """Root group that imports a command module the first time one of its commands is
    looked up (listing the commands, for ``--help``, imports them all)."""

    _loaded: set[str]

    def _load(self, module_name: str) -> None:
        loaded = self.__dict__.setdefault("_loaded", set())
        if module_name in loaded:
            return
        loaded.add(module_name)
        module = importlib.import_module(f"lakegate.cli.{module_name}")
        holder = typer.Typer(rich_markup_mode=_RICH_MARKUP)
        module.register(holder)
        for name, command in typer.main.get_group(holder).commands.items():
            self.add_command(command, name)

    def _load_all(self) -> None:
        for module_name in COMMAND_MODULES:
            self._load(module_name)

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The command ``cmd_name``, importing only the module that defines it."""
        if cmd_name not in self.commands:
            for module_name, names in COMMAND_MODULES.items():
                if cmd_name in names:
                    self._load(module_name)
            if cmd_name not in self.commands:  # unknown or unmapped: load all (suggestions)
                self._load_all()
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Context) -> list[str]:
        """Every command in Typer's order: commands, then groups, each in the order of
        :data:`COMMAND_MODULES`."""
        self._load_all()
        ordered = [n for names in COMMAND_MODULES.values() for n in names if n in self.commands]
        ordered += [n for n in self.commands if n not in ordered]
        return sorted(ordered, key=lambda n: isinstance(self.commands[n], TyperGroup))


app = typer.Typer(
    name="lakegate",
    help="Ingest databases and REST APIs into a Parquet lake and validate every load.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=_RICH_MARKUP,
    cls=LazyCommandGroup,
)

_state = {"verbose": False}


@app.callback()
def _root(
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Show debug logs and full tracebacks on errors."
    ),
) -> None:
    """Lakegate: ingestion and data quality for your lake."""
    from lakegate.observability.logging import configure_logging
    from lakegate.settings import get_settings

    _state["verbose"] = verbose
    try:
        settings = get_settings()
        level, fmt = settings.log_level, settings.log_format
    except Exception:  # settings errors are reported by the command that needs them
        settings, level, fmt = None, "INFO", "console"
    configure_logging("DEBUG" if verbose else level, fmt)
    if settings is not None and settings.azure.key_vault_url:
        # Key Vault joins dlt's provider chain (after env and secrets.toml) for every command.
        from lakegate.secrets.keyvault import install_keyvault_provider

        install_keyvault_provider(settings)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lakegate`` script; returns the process exit code."""
    try:
        result = app(args=argv, standalone_mode=False)
    except LakegateError as exc:
        if _state["verbose"]:
            traceback.print_exc()
        for line in str(exc).splitlines() or [type(exc).__name__]:
            stderr.print(f"[red]error:[/red] {redact(line)}", highlight=False, markup=True)
        return int(exc.exit_code)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        stderr.print("aborted")
        return int(ExitCode.INTERRUPTED)
    except typer.TyperException as exc:  # typer >= 0.29 vendors click: its usage errors
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            stderr.print(f"[red]error:[/red] {redact(str(exc))}", highlight=False)
        return int(ExitCode.BAD_INPUT)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    return int(result) if isinstance(result, int) else int(ExitCode.OK)


def run() -> None:
    """Console-script wrapper: exit with :func:`main`'s code."""
    sys.exit(main())
