"""Sensor profiles: how each supported wearable is recognised, started, decoded and nudged."""

from __future__ import annotations

from collections.abc import Mapping

from . import generic, metamotion, microbit, polar_h10, thingy52, witmotion
from .base import (
    BATTERY_LEVEL_UUID,
    BATTERY_SERVICE_UUID,
    Decoded,
    DecodeError,
    Layout,
    Nudge,
    Profile,
    Write,
)

PROFILES: Mapping[str, Profile] = {
    p.name: p
    for p in (
        microbit.PROFILE,
        thingy52.PROFILE,
        witmotion.PROFILE,
        polar_h10.PROFILE,
        metamotion.PROFILE,
        generic.PROFILE,
    )
}
NAMES = tuple(PROFILES)


def get_profile(name: str) -> Profile:
    """The profile called `name`; raises `KeyError` naming the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        raise KeyError(f"unknown profile {name!r} (known: {', '.join(NAMES)})") from None


def recognise(name: str | None, service_uuids: list[str]) -> Profile | None:
    """The profile an advertisement belongs to, if any (the generic one only by service)."""
    for profile in PROFILES.values():
        if profile.matches(name, service_uuids):
            return profile
    return None


__all__ = [
    "BATTERY_LEVEL_UUID",
    "BATTERY_SERVICE_UUID",
    "NAMES",
    "PROFILES",
    "DecodeError",
    "Decoded",
    "Layout",
    "Nudge",
    "Profile",
    "Write",
    "get_profile",
    "recognise",
]
