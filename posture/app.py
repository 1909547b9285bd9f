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

from .settings import ConfigError, Settings, load_settings

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


def fail(message: str, *, code: int = 1) -> typer.Exit:
    """Print a one-line error and return the exit to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


@app.callback()
def main(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML configuration file (see posture.example.toml).",
            envvar="POSTURE_CONFIG",
        ),
    ] = None,
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More logging (-vv for debug).")
    ] = 0,
) -> None:
    """Load the configuration once, before any command runs."""
    level = (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose < 2:  # Bumble's emulated controllers warn about every packet in flight at shutdown
        logging.getLogger("bumble").setLevel(logging.ERROR)
    try:
        _State.settings = load_settings(config)
    except ConfigError as err:
        raise fail(str(err), code=2) from None


def settings() -> Settings:
    assert _State.settings is not None
    return _State.settings
