"""Commands for wearers: `notify` (nudges on the desktop) and `cmd` (snooze, do-not-disturb,
calibrate, quiet hours, desk)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from analytics.messages import Command
from analytics.wire import check_id
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

    from posture.notify import pick_notifier, show_nudges
    from transport.mqtt import BrokerError

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
    command: Annotated[str, typer.Argument(help="snooze, dnd, calibrate, quiet-hours or desk.")],
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="snooze MINUTES | snooze until HH:MM | snooze today | dnd on [until HH:MM] | "
            "dnd off | quiet-hours HH:MM-HH:MM ... | none | desk stand|sit"
        ),
    ] = None,
    wearer: Annotated[str, typer.Option("--wearer", "-w", help="The wearer's pseudonym.")] = "",
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Send a wearer's command to the gateway: snooze (for some minutes, until a time of day or
    for the rest of today), do-not-disturb (for the rest of today or until a time), calibrate,
    quiet hours, or move the wearer's desk to standing or sitting height. Times of day are in
    `[analytics.nudges] timezone`."""
    from analytics.contract import wearer_topic
    from analytics.messages import encode_command
    from transport.mqtt import BrokerError, publish_once

    zone = ZoneInfo(settings().analytics.nudges.timezone)
    try:
        parsed = _parse_command(wearer, command, args or [], now_s=time.time(), zone=zone)
    except ValueError as err:
        raise fail(str(err), code=2) from None
    topic = wearer_topic(settings().mqtt.topic_root, parsed.wearer_id, "cmd")
    try:
        publish_once(settings().mqtt, topic, encode_command(parsed))
    except BrokerError as err:
        raise fail(str(err)) from None
    until = ""
    if parsed.until_s is not None:
        local = datetime.fromtimestamp(parsed.until_s, UTC).astimezone(zone)
        until = f" until {local:%Y-%m-%d %H:%M} ({zone.key})"
    console.print(f"sent {parsed.name} to {parsed.wearer_id}{until}", highlight=False)


def _parse_command(
    wearer: str, name: str, args: list[str], *, now_s: float = 0.0, zone: ZoneInfo | None = None
) -> Command:
    """A `Command` from the command line's words; raises ValueError with a one-line reason.

    `now_s` and `zone` turn "until HH:MM" (the next such time) and "today" (the coming
    midnight) into an end time."""
    if not wearer:
        raise ValueError("say whose command it is: --wearer ID")
    check_id(wearer, what="wearer id (--wearer)")
    parse = _WORDS.get(name.replace("-", "_"))
    if parse is None:
        raise ValueError(
            f"unknown command {name.replace('-', '_')!r}: snooze, dnd, calibrate, quiet-hours "
            "or desk"
        )
    return parse(wearer, args, _Clock(now_s, zone or ZoneInfo("UTC")))


@dataclass(frozen=True, slots=True)
class _Clock:
    now_s: float
    zone: ZoneInfo

    def next(self, clock: str) -> float:
        """Unix time of the next `clock` ("HH:MM", "24:00" the coming midnight) after now."""
        from analytics.params import clock_minutes

        minute = clock_minutes(clock)
        local = datetime.fromtimestamp(self.now_s, UTC).astimezone(self.zone)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        for days in range(3):
            when = (midnight + timedelta(days=days, minutes=minute)).replace(tzinfo=self.zone)
            if when.timestamp() > self.now_s:
                return when.timestamp()
        raise AssertionError("a day later is always later")


def _snooze(wearer: str, args: list[str], clock: _Clock) -> Command:
    if args == ["today"]:
        return Command(wearer, "snooze", until_s=clock.next("24:00"))
    if len(args) == 2 and args[0] == "until":
        return Command(wearer, "snooze", until_s=clock.next(args[1]))
    if (
        len(args) != 1
        or not args[0].replace(".", "", 1).isdigit()
        or not 1 <= float(args[0]) <= 1440
    ):
        raise ValueError(
            "snooze takes the minutes (1 to 1440), until HH:MM, or today: "
            "posture cmd snooze 30 -w W"
        )
    return Command(wearer, "snooze", minutes=float(args[0]))


def _dnd(wearer: str, args: list[str], clock: _Clock) -> Command:
    if args in (["on"], ["on", "today"]):  # the gateway ends it at the wearer's midnight
        return Command(wearer, "dnd", on=True)
    if len(args) == 3 and args[:2] == ["on", "until"]:
        return Command(wearer, "dnd", on=True, until_s=clock.next(args[2]))
    if args != ["off"]:
        raise ValueError(
            "dnd takes on or off (on until HH:MM to end it then): posture cmd dnd on -w W"
        )
    return Command(wearer, "dnd", on=False)


def _calibrate(wearer: str, args: list[str], _clock: _Clock) -> Command:
    if args:
        raise ValueError("calibrate takes no arguments")
    return Command(wearer, "calibrate")


def _quiet_hours(wearer: str, args: list[str], _clock: _Clock) -> Command:
    from analytics.params import clock_minutes

    spans: list[tuple[str, str]] = []
    for word in [] if args == ["none"] else args:
        start, sep, end = word.partition("-")
        if not sep:
            raise ValueError(f"quiet hours are HH:MM-HH:MM, got {word!r}")
        clock_minutes(start), clock_minutes(end)
        spans.append((start, end))
    if not args:
        raise ValueError("quiet-hours takes HH:MM-HH:MM spans, or none to clear them")
    return Command(wearer, "quiet_hours", spans=tuple(spans))


def _desk(wearer: str, args: list[str], _clock: _Clock) -> Command:
    if args not in (["stand"], ["sit"]):
        raise ValueError("desk takes stand or sit: posture cmd desk stand -w W")
    return Command(wearer, "desk", position=args[0])


_WORDS: dict[str, Callable[[str, list[str], _Clock], Command]] = {
    "snooze": _snooze,
    "dnd": _dnd,
    "calibrate": _calibrate,
    "quiet_hours": _quiet_hours,
    "desk": _desk,
}
