"""Time zones by name, and the local one, for commands that show calendar days."""

from __future__ import annotations

import os
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ZoneError(ValueError):
    """A time zone name that is not in the time zone database."""


def zone(name: str) -> ZoneInfo:
    """The zone called `name` (e.g. `Europe/Berlin`); raises `ZoneError` if there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ZoneError(f"unknown time zone {name!r} (use a name like Europe/Berlin)") from None


def local_zone(localtime: Path = Path("/etc/localtime")) -> ZoneInfo:
    """This machine's zone: `$TZ`, else what /etc/localtime points at, else UTC."""
    name = os.environ.get("TZ", "").lstrip(":")
    if name:
        return zone(name)
    target = str(localtime.resolve()) if localtime.is_symlink() else ""
    if "zoneinfo/" in target:
        return zone(target.split("zoneinfo/", 1)[1])
    return ZoneInfo("UTC")
