"""Messages to and from the wearer: nudges (`<root>/<wearer>/nudge`, to devices and desktops)
and the wearer's commands (`<root>/<wearer>/cmd`: snooze, do-not-disturb, calibrate, quiet
hours). Versioned JSON like the rest of the contract (analytics/contract.py); decoding raises
`PayloadError` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from .contract import (
    ID_PATTERN,
    PayloadError,
    envelope,
    field,
    load_object,
    number,
    to_json,
    wearer_of,
)
from .params import clock_minutes
from .records import Event, EventKind


@dataclass(frozen=True, slots=True)
class Nudge:
    """A nudge as the wearer's devices receive it on `<root>/<wearer>/nudge`."""

    wearer_id: str
    t_s: float
    reason: str  # "sitting" or "slouch"
    message: str
    nudge_id: str


def nudge_message(event: Event) -> str:
    """The words a wearer sees for a nudge event."""
    reason = event.values.get("reason")
    sitting = event.values.get("sitting_s")
    if reason == "slouch":
        return "You have been leaning forward for a while: sit back and straighten up."
    if isinstance(sitting, int | float) and sitting > 0:
        return f"You have been sitting for {round(sitting / 60)} min: time to stand up and move."
    return "Time to stand up and move for a few minutes."


def encode_nudge(event: Event) -> bytes:
    if event.kind is not EventKind.NUDGE:
        raise ValueError(f"not a nudge: {event.kind}")
    return to_json(
        envelope("nudge", event.wearer_id, "", "")
        | {
            "id": event.event_id,
            "t": round(event.start_s, 3),
            "reason": str(event.values.get("reason", "sitting")),
            "message": nudge_message(event),
        }
    )


def decode_nudge(payload: bytes) -> Nudge:
    data = load_object(payload, expected_type="nudge")
    reason = field(data, "reason", str)
    if reason not in ("sitting", "slouch"):
        raise PayloadError(f"unknown nudge reason {reason[:40]!r}")
    message = field(data, "message", str)
    if len(message) > 500:
        raise PayloadError(f"nudge message of {len(message)} characters (at most 500)")
    nudge_id = field(data, "id", str)
    if not ID_PATTERN.fullmatch(nudge_id):
        raise PayloadError("nudge id is not an identifier")
    return Nudge(
        wearer_id=wearer_of(data),
        t_s=number(data, "t", lo=0.0),
        reason=reason,
        message=message,
        nudge_id=nudge_id,
    )


COMMANDS: Final = ("snooze", "dnd", "calibrate", "quiet_hours")


@dataclass(frozen=True, slots=True)
class Command:
    """A wearer's command to the gateway: snooze nudges, do-not-disturb, calibrate, quiet hours."""

    wearer_id: str
    name: str  # one of COMMANDS
    minutes: float = 0.0  # snooze: for how long
    on: bool = False  # dnd: on or off
    spans: tuple[tuple[str, str], ...] = ()  # quiet_hours: ("HH:MM", "HH:MM") pairs; () = none

    def __post_init__(self) -> None:
        if self.name not in COMMANDS:
            raise ValueError(f"unknown command {self.name!r} (one of {', '.join(COMMANDS)})")


def encode_command(command: Command) -> bytes:
    body: dict[str, Any] = {"cmd": command.name}
    if command.name == "snooze":
        body["minutes"] = command.minutes
    elif command.name == "dnd":
        body["on"] = command.on
    elif command.name == "quiet_hours":
        body["spans"] = [list(span) for span in command.spans]
    return to_json(envelope("cmd", command.wearer_id, "", "") | body)


def decode_command(payload: bytes) -> Command:
    """A command from its payload; raises `PayloadError`."""
    data = load_object(payload, expected_type="cmd")
    name = field(data, "cmd", str)
    if name not in COMMANDS:
        raise PayloadError(f"unknown command {name[:40]!r}")
    wearer = wearer_of(data)
    if name == "snooze":
        return Command(wearer, name, minutes=number(data, "minutes", lo=1.0, hi=24 * 60.0))
    if name == "dnd":
        return Command(wearer, name, on=field(data, "on", bool))
    if name == "quiet_hours":
        raw = field(data, "spans", list)
        if len(raw) > 8 or not all(
            isinstance(s, list)
            and len(s) == 2
            and all(isinstance(x, str) and len(x) <= 5 for x in s)
            for s in raw
        ):
            raise PayloadError('field \'spans\' must be at most 8 ["HH:MM", "HH:MM"] pairs')
        try:
            for start, end in raw:
                clock_minutes(start), clock_minutes(end)
        except ValueError as err:
            raise PayloadError(str(err)) from None
        return Command(wearer, name, spans=tuple((s[0], s[1]) for s in raw))
    return Command(wearer, name)
