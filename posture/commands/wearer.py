"""Commands for wearers: `notify` (nudges on the desktop) and `cmd` (snooze, do-not-disturb,
calibrate, quiet hours)."""

from __future__ import annotations

from typing import Annotated

import typer

from analytics.contract import check_id
from analytics.messages import Command
from posture.app import ConfigOption, VerboseOption, app, console, fail, settings


@app.command()
def notify(
    wearer: Annotated[str, typer.Option("--wearer", "-w", help="The wearer's pseudonym.")],
    terminal: Annotated[
        bool, typer.Option("--terminal", help="Show nudges in this terminal only.")
    ] = False,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Show a wearer's nudges as desktop notifications (or in the terminal) as they arrive."""
    import asyncio

    from posture.mqtt import BrokerError
    from posture.notify import pick_notifier, show_nudges

    try:
        check_id(wearer, what="wearer id")
    except ValueError as err:
        raise fail(str(err), code=2) from None

    async def run() -> None:
        notifier = await pick_notifier(console, terminal_only=terminal)
        console.print(f"showing nudges for {wearer} via {notifier.name}; Ctrl-C to stop")
        try:
            await show_nudges(settings().mqtt, wearer, notifier)
        finally:
            notifier.close()

    try:
        asyncio.run(run())
    except BrokerError as err:
        raise fail(str(err)) from None
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


@app.command()
def cmd(
    command: Annotated[str, typer.Argument(help="snooze, dnd, calibrate or quiet-hours.")],
    args: Annotated[
        list[str] | None,
        typer.Argument(help="snooze MINUTES | dnd on|off | quiet-hours HH:MM-HH:MM ... | none"),
    ] = None,
    wearer: Annotated[str, typer.Option("--wearer", "-w", help="The wearer's pseudonym.")] = "",
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Send a wearer's command to the gateway: snooze, do-not-disturb, calibrate, quiet hours."""
    from analytics.contract import wearer_topic
    from analytics.messages import encode_command
    from posture.mqtt import BrokerError, publish_once

    try:
        parsed = _parse_command(wearer, command, args or [])
    except ValueError as err:
        raise fail(str(err), code=2) from None
    topic = wearer_topic(settings().mqtt.topic_root, parsed.wearer_id, "cmd")
    try:
        publish_once(settings().mqtt, topic, encode_command(parsed))
    except BrokerError as err:
        raise fail(str(err)) from None
    console.print(f"sent {parsed.name} to {parsed.wearer_id}", highlight=False)


def _parse_command(wearer: str, name: str, args: list[str]) -> Command:
    """A `Command` from the command line's words; raises ValueError with a one-line reason."""
    from analytics.params import clock_minutes

    if not wearer:
        raise ValueError("say whose command it is: --wearer ID")
    check_id(wearer, what="wearer id (--wearer)")
    name = name.replace("-", "_")
    if name == "snooze":
        if (
            len(args) != 1
            or not args[0].replace(".", "", 1).isdigit()
            or not 1 <= float(args[0]) <= 1440
        ):
            raise ValueError("snooze takes the minutes, 1 to 1440: posture cmd snooze 30 -w W")
        return Command(wearer, name, minutes=float(args[0]))
    if name == "dnd":
        if args not in (["on"], ["off"]):
            raise ValueError("dnd takes on or off: posture cmd dnd on -w W")
        return Command(wearer, name, on=args[0] == "on")
    if name == "calibrate":
        if args:
            raise ValueError("calibrate takes no arguments")
        return Command(wearer, name)
    if name == "quiet_hours":
        spans: list[tuple[str, str]] = []
        for word in [] if args == ["none"] else args:
            start, sep, end = word.partition("-")
            if not sep:
                raise ValueError(f"quiet hours are HH:MM-HH:MM, got {word!r}")
            clock_minutes(start), clock_minutes(end)
            spans.append((start, end))
        if not args:
            raise ValueError("quiet-hours takes HH:MM-HH:MM spans, or none to clear them")
        return Command(wearer, name, spans=tuple(spans))
    raise ValueError(f"unknown command {name!r}: snooze, dnd, calibrate or quiet-hours")
