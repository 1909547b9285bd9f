"""The topics on which something is said about a wearer, and how each is read.

Per wearer of the gateway: their commands (`<root>/<wearer>/cmd`) and contexts
(`<root>/<wearer>/context`); and from their configuration (`[wearers.<id>]`), busy-state topics
and their desk's height topic. Each topic has a table of (kind, decoder) for the wearers it
concerns (a topic may concern several: a shared room's calendar); a decoder turns a payload
into a `WearerInput` or raises `PayloadError`. What a nudge offers to do with the wearer's desk
is decided here too (`desk_offer`).
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial

from analytics.contract import wearer_topic
from analytics.messages import (
    BusyUpdate,
    Command,
    DeskHeight,
    WearerInput,
    busy_state,
    decode_command,
    decode_context,
    desk_height_cm,
)
from analytics.wire import PayloadError
from sensor_gateway.settings import DeskSettings, WearerSettings

Decoder = tuple[str, Callable[[bytes], WearerInput]]  # (kind, decoder)


def _command(wearer: str, payload: bytes) -> Command:
    command = decode_command(payload)
    if command.wearer_id != wearer:
        raise PayloadError(f"a command for {command.wearer_id!r} on {wearer!r}'s topic")
    return command


def _context(wearer: str, payload: bytes) -> BusyUpdate:
    said = decode_context(payload)
    return BusyUpdate(wearer, f"context:{said.source}", said.busy, said.until_s)


def _busy(wearer: str, topic: str, values: Sequence[str], payload: bytes) -> BusyUpdate:
    return BusyUpdate(wearer, f"topic:{topic}", busy_state(payload, values))


def _desk_height(wearer: str, desk: DeskSettings, payload: bytes) -> DeskHeight:
    height = desk_height_cm(
        payload, key=desk.height_key, scale=desk.height_scale, offset_cm=desk.height_offset_cm
    )
    return DeskHeight(wearer, height)


def input_topics(
    root: str, wearers: Iterable[str], own: Mapping[str, WearerSettings]
) -> dict[str, list[Decoder]]:
    """Topic -> what it says about which wearer, and how to read it; `own` holds the wearers'
    settings (those of other wearers are left out)."""
    served = list(wearers)
    topics: dict[str, list[Decoder]] = collections.defaultdict(list)
    for w in served:
        topics[wearer_topic(root, w, "cmd")].append(("cmd", partial(_command, w)))
        topics[wearer_topic(root, w, "context")].append(("context", partial(_context, w)))
    for w, settings in own.items():
        if w not in served:
            continue
        for busy in settings.busy:
            topics[busy.topic].append(("busy", partial(_busy, w, busy.topic, busy.busy_values)))
        desk = settings.desk
        if desk is not None and desk.height_topic:
            topics[desk.height_topic].append(("desk_height", partial(_desk_height, w, desk)))
    return dict(topics)


def desk_offer(desk: DeskSettings | None, reason: object) -> str | None:
    """The desk position a nudge for `reason` offers (the wearer confirms with a `desk`
    command): standing for a movement break, sitting after standing still; None if the desk
    cannot be sent there."""
    position = {"sitting": "stand", "standing": "sit"}.get(str(reason))
    if desk is None or position is None or not desk.payload(position):
        return None
    return position
