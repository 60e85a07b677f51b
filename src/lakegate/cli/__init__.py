"""The ``lakegate`` command line: a Typer app whose commands call into the packages.

Every :class:`~lakegate.errors.LakegateError` ends here as one line on stderr and the
error's exit code; a traceback is shown only with ``--verbose``.
"""

from __future__ import annotations

import sys
import traceback

import typer
from click.exceptions import Abort, ClickException, Exit

from lakegate.cli import check, ingest, lake, platform, rules, secrets
from lakegate.cli.common import stderr
from lakegate.errors import ExitCode, LakegateError
from lakegate.observability.redact import redact

app = typer.Typer(
    name="lakegate",
    help="Ingest databases and REST APIs into a Parquet lake and validate every load.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
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


for module in (ingest, check, rules, lake, secrets, platform):
    module.register(app)


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
    except Exit as exc:
        return int(exc.exit_code)
    except Abort:
        stderr.print("aborted")
        return int(ExitCode.INTERRUPTED)
    except ClickException as exc:
        exc.show()
        return int(ExitCode.BAD_INPUT)
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
