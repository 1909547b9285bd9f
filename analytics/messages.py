"""Messages to and from the wearer: nudges (`<root>/<wearer>/nudge`, to devices and desktops),
the wearer's commands (`<root>/<wearer>/cmd`: snooze, do-not-disturb, calibrate, quiet hours,
desk), what says the wearer is busy (`<root>/<wearer>/context`, or any topic with busy values)
and the height of the wearer's sit-stand desk. Versioned JSON like the rest of the contract
(analytics/contract.py), except the busy states and desk heights other systems publish in their
own formats; decoding raises `PayloadError` with the reason.
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from .contract import envelope
from .desk import MAX_CM, MIN_CM
from .params import clock_minutes
from .phrases import PHRASES, render
from .records import Event, EventKind
from .wire import (
    ID_PATTERN,
    SCHEMA_VERSION,
    PayloadError,
    field,
    load_object,
    number,
    to_json,
    wearer_of,
)

NUDGE_REASONS: Final = ("sitting", "standing", "slouch")
DESK_POSITIONS: Final = ("stand", "sit")


@dataclass(frozen=True, slots=True)
class Nudge:
    """A nudge as the wearer's devices receive it on `<root>/<wearer>/nudge`."""

    wearer_id: str
    t_s: float
    reason: str  # one of NUDGE_REASONS
    message: str
    nudge_id: str
    desk: str | None = None  # an offer to move the wearer's desk: one of DESK_POSITIONS


def nudge_message(event: Event) -> str:
    """The words a wearer sees for a nudge event: its phrase from the bank (analytics/phrases.py)
    in its language, naming the bout's length."""
    reason = event.values.get("reason")
    phrase, language = event.values.get("phrase"), event.values.get("language", "en")
    bout = event.values.get("bout_s", event.values.get("sitting_s"))
    if isinstance(phrase, str) and isinstance(bout, int | float) and language in PHRASES:
        with contextlib.suppress(KeyError):
            return render(phrase, language=str(language), bout_s=float(bout))
    if reason == "slouch":
        return "You have been leaning forward for a while: sit back and straighten up."
    if reason == "standing":
        return "You have been standing still for a while: walk a little or sit down."
    if isinstance(bout, int | float) and bout > 0:
        return f"You have been sitting for {round(bout / 60)} min: time to stand up and move."
    return "Time to stand up and move for a few minutes."


def encode_nudge(event: Event, *, desk: str | None = None) -> bytes:
    """The nudge payload of a nudge event; `desk` offers to move the wearer's desk to that
    position (the wearer confirms with a `desk` command)."""
    if event.kind is not EventKind.NUDGE:
        raise ValueError(f"not a nudge: {event.kind}")
    if desk is not None and desk not in DESK_POSITIONS:
        raise ValueError(f"desk position must be one of {', '.join(DESK_POSITIONS)}, got {desk!r}")
    body = {
        "id": event.event_id,
        "t": round(event.start_s, 3),
        "reason": str(event.values.get("reason", "sitting")),
        "message": nudge_message(event),
    }
    return to_json(
        envelope("nudge", event.wearer_id, "", "") | body | ({"desk": desk} if desk else {})
    )


def decode_nudge(payload: bytes) -> Nudge:
    data = load_object(payload, expected_type="nudge")
    reason = field(data, "reason", str)
    if reason not in NUDGE_REASONS:
        raise PayloadError(f"unknown nudge reason {reason[:40]!r}")
    message = field(data, "message", str)
    if len(message) > 500:
        raise PayloadError(f"nudge message of {len(message)} characters (at most 500)")
    nudge_id = field(data, "id", str)
    if not ID_PATTERN.fullmatch(nudge_id):
        raise PayloadError("nudge id is not an identifier")
    desk = data.get("desk")
    if desk is not None and desk not in DESK_POSITIONS:
        raise PayloadError(f"field 'desk' must be one of {', '.join(DESK_POSITIONS)}")
    return Nudge(
        wearer_id=wearer_of(data),
        t_s=number(data, "t", lo=0.0),
        reason=reason,
        message=message,
        nudge_id=nudge_id,
        desk=desk,
    )


COMMANDS: Final = ("snooze", "dnd", "calibrate", "quiet_hours", "desk")


@dataclass(frozen=True, slots=True)
class Command:
    """A wearer's command to the gateway: snooze nudges, do-not-disturb, calibrate, quiet hours,
    move the desk (the wearer's confirmation: the gateway never moves a desk by itself)."""

    wearer_id: str
    name: str  # one of COMMANDS
    minutes: float = 0.0  # snooze: for how long (or until `until_s`)
    on: bool = False  # dnd: on or off
    until_s: float | None = None  # snooze, dnd on: until this unix time (dnd: else end of day)
    spans: tuple[tuple[str, str], ...] = ()  # quiet_hours: ("HH:MM", "HH:MM") pairs; () = none
    position: str = ""  # desk: one of DESK_POSITIONS

    def __post_init__(self) -> None:
        if self.name not in COMMANDS:
            raise ValueError(f"unknown command {self.name!r} (one of {', '.join(COMMANDS)})")
        if self.until_s is not None and self.name not in ("snooze", "dnd"):
            raise ValueError(f"command {self.name!r} takes no end time")
        if (self.name == "desk") != (self.position in DESK_POSITIONS):
            raise ValueError(
                f"a desk command takes a position (stand or sit), no other command one; "
                f"got {self.name!r} with {self.position!r}"
            )


def encode_command(command: Command) -> bytes:
    body: dict[str, Any] = {"cmd": command.name}
    if command.name == "snooze" and command.until_s is None:
        body["minutes"] = command.minutes
    elif command.name == "dnd":
        body["on"] = command.on
    elif command.name == "desk":
        body["position"] = command.position
    if command.until_s is not None:
        body["until"] = command.until_s
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
    until = number(data, "until", lo=0.0) if data.get("until") is not None else None
    if name == "snooze":
        if until is not None:
            return Command(wearer, name, until_s=until)
        return Command(wearer, name, minutes=number(data, "minutes", lo=1.0, hi=24 * 60.0))
    if name == "dnd":
        on = field(data, "on", bool)
        return Command(wearer, name, on=on, until_s=until if on else None)
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
    if name == "desk":
        position = field(data, "position", str)
        if position not in DESK_POSITIONS:
            raise PayloadError(f"field 'position' must be one of {', '.join(DESK_POSITIONS)}")
        return Command(wearer, name, position=position)
    return Command(wearer, name)


@dataclass(frozen=True, slots=True)
class ContextState:
    """What a context message says: the wearer is busy (until when) or not, and who says so."""

    busy: bool
    until_s: float | None  # unix seconds; None: until it says otherwise (at most context_max_s)
    source: str


def decode_context(payload: bytes) -> ContextState:
    """A `<root>/<wearer>/context` payload: a JSON object with `busy` (bool), optional `until`
    (unix seconds, or ISO 8601 with a time zone) and `source` (an identifier); `v`, if given,
    must be 1. Raises `PayloadError`."""
    data = _small_json(payload, "context")
    if not isinstance(data, dict):
        raise PayloadError(f"context payload is a JSON {type(data).__name__}, not an object")
    if "v" in data and (data["v"] != SCHEMA_VERSION or isinstance(data["v"], bool)):
        raise PayloadError(f"unsupported schema version {data['v']!r} (expected 1)")
    busy = field(data, "busy", bool)
    source = data.get("source", "context")
    if not isinstance(source, str) or not ID_PATTERN.fullmatch(source):
        raise PayloadError("field 'source' must be 1-64 letters, digits, '_', '.' or '-'")
    until = data.get("until")
    if until is None:
        return ContextState(busy, None, source)
    if isinstance(until, str):
        try:
            when = datetime.fromisoformat(until[:40])
        except ValueError:
            raise PayloadError(f"field 'until' {until[:40]!r} is not an ISO 8601 time") from None
        if when.tzinfo is None:
            raise PayloadError("field 'until' needs a time zone (e.g. 2026-09-21T14:00+02:00)")
        return ContextState(busy, when.timestamp(), source)
    return ContextState(busy, number(data, "until", lo=0.0), source)


def _small_json(payload: bytes, what: str) -> Any:
    """The JSON value of a payload of at most 4 KiB; raises `PayloadError`."""
    if len(payload) > 4096:
        raise PayloadError(f"{what} payload of {len(payload)} bytes (at most 4096)")
    try:
        return json.loads(payload.decode("utf-8"), parse_constant=_no_constant)
    except PayloadError:
        raise
    except (UnicodeDecodeError, RecursionError, ValueError) as err:  # ValueError: bad JSON
        raise PayloadError(f"not JSON: {str(err)[:200]}") from None


def _no_constant(name: str) -> None:
    raise PayloadError(f"non-finite number {name} in payload")


def busy_state(payload: bytes, busy_values: Sequence[str]) -> bool:
    """Whether a state topic's payload is one of `busy_values` (case-insensitive; a JSON
    string's quotes are ignored), e.g. Home Assistant's mqtt_statestream `on` of a calendar or
    a `binary_sensor`, or a presence of `Busy`. Raises `PayloadError` for a payload that is
    not a short text."""
    if len(payload) > 256:
        raise PayloadError(f"state payload of {len(payload)} bytes (at most 256)")
    try:
        text = payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise PayloadError("state payload is not UTF-8 text") from None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1].strip()
    return text.casefold() in {v.casefold() for v in busy_values}


def desk_height_cm(
    payload: bytes, *, key: str = "", scale: float = 1.0, offset_cm: float = 0.0
) -> float:
    """A desk's height in cm from what its controller publishes: a number (plain, or a JSON
    string or number), or with `key` the number at that key of a JSON object (dots for nested
    objects: "desk.height"); cm = value x `scale` + `offset_cm` (scale 0.1 for mm). Raises
    `PayloadError` for anything else, or a height no desk has."""
    if key:
        value: Any = _small_json(payload, "desk height")
        for part in key.split("."):
            if not isinstance(value, dict) or part not in value:
                raise PayloadError(f"desk height payload has no {key!r}")
            value = value[part]
    else:
        if len(payload) > 256:
            raise PayloadError(f"desk height payload of {len(payload)} bytes (at most 256)")
        try:
            value = payload.decode("utf-8").strip().strip('"').strip()
        except UnicodeDecodeError:
            raise PayloadError("desk height payload is not UTF-8 text") from None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError(f"desk height is a {type(value).__name__}, not a number")
    try:
        reading = math.inf if isinstance(value, int) and abs(value) > 1e300 else float(value)
    except ValueError:
        raise PayloadError(f"desk height {str(value)[:40]!r} is not a number") from None
    height = reading * scale + offset_cm
    if not (math.isfinite(height) and MIN_CM <= height <= MAX_CM):
        raise PayloadError(
            f"desk height {str(value)[:40]} gives {height:g} cm, outside {MIN_CM:g}-{MAX_CM:g} cm"
        )
    return height


@dataclass(frozen=True, slots=True)
class BusyUpdate:
    """A source says, now, that the wearer is busy (until when) or no longer busy."""

    wearer_id: str
    source: str
    busy: bool
    until_s: float | None = None


@dataclass(frozen=True, slots=True)
class DeskHeight:
    """The wearer's sit-stand desk is this high, now."""

    wearer_id: str
    height_cm: float


WearerInput = Command | BusyUpdate | DeskHeight  # what the gateway hears about a wearer
