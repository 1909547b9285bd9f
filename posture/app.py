"""The `posture` application object and what every command shares: the settings, loaded once
before any command runs, the consoles and the one-line failure.

Exit codes: 0 success, 1 a failure at run time (bad trace, unreachable server), 2 a usage or
configuration error (reported before anything connects).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from transport.settings import ConfigError

from .logformat import LogFormat, handler
from .settings import Settings, load_settings

app = typer.Typer(
    help="Wearable posture and sitting-time monitor: gateway, analytics, recorder and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
console = Console()
err_console = Console(stderr=True)


class _State:
    settings: Settings | None = None
    config: Path | None = None
    verbose = 0
    log_format = LogFormat.TEXT


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _configure(config: Path | None, verbose: int) -> None:
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, handlers=[handler(_State.log_format)], force=True)
    if verbose < 2:  # Bumble's emulated controllers warn about every packet in flight at shutdown
        logging.getLogger("bumble").setLevel(logging.ERROR)
    try:
        _State.settings = load_settings(config)
    except ConfigError as err:
        raise fail(str(err), code=2) from None


_CONFIG_HELP = "TOML configuration file (see posture.example.toml)."
_VERBOSE_HELP = "More logging (-vv for debug)."
_LOG_FORMAT_HELP = "Log lines as text, or as one JSON object each (for log collectors)."


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help=_CONFIG_HELP, envvar="POSTURE_CONFIG"),
    ] = None,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help=_VERBOSE_HELP)] = 0,
    log_format: Annotated[
        LogFormat,
        typer.Option("--log-format", help=_LOG_FORMAT_HELP, envvar="POSTURE_LOG_FORMAT"),
    ] = LogFormat.TEXT,
) -> None:
    """Load the configuration once, before any command runs."""
    _State.config, _State.verbose, _State.log_format = config, verbose, log_format
    _configure(config, verbose)


def _command_config(value: Path | None) -> Path | None:
    if value is not None:
        _State.config = value
        _configure(value, _State.verbose)
    return value


def _command_verbose(value: int) -> int:
    if value > _State.verbose:
        _State.verbose = value
        _configure(_State.config, value)
    return value


# Every command also takes --config and -v after its name (`posture run --config FILE`); the
# values given there win over those given before it. Commands declare them as
# `_config: ConfigOption = None, _verbose: VerboseOption = 0` and leave the rest to `settings()`.
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help=_CONFIG_HELP, callback=_command_config),
]
VerboseOption = Annotated[
    int, typer.Option("--verbose", "-v", count=True, help=_VERBOSE_HELP, callback=_command_verbose)
]


def settings() -> Settings:
    assert _State.settings is not None
    return _State.settings
