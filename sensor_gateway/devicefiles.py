"""Research devices' own files, read by maintained readers (the `research` extra):

- Axivity `.cwa` (AX3, AX6), GENEActiv `.bin` and ActiGraph `.gt3x` (log.bin format, firmware
  2.5 and later, e.g. wGT3X-BT) through actfast;
- older ActiGraph `.gt3x` (activity.bin format: GT3X+ and NEO) through ActiGraph's own pygt3x,
  a separate extra (`actigraph-legacy`) because it is GPL-3.0 licensed.

Devices keep local clock time. When the file says which offset from UTC that clock had
(GENEActiv's "Time Zone", ActiGraph's "TimeZone"), times are converted to unix seconds with it;
when it does not (Axivity), the clock is taken as UTC and a note says so.
"""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from .traces import TraceError

_OFFSET: Final = re.compile(r"(?:GMT|UTC)?\s*([+-])\s*(\d{1,2}):?(\d{2})")
_TICKS_AT_UNIX_EPOCH: Final = 621_355_968_000_000_000  # .NET ticks (100 ns) at 1970-01-01
_EXTRA: Final = "pip install 'posture-monitor[research]'"

Samples = tuple[NDArray[np.float64], NDArray[np.float32], list[str]]


def utc_offset_s(text: str) -> float | None:
    """Seconds east of UTC from 'GMT -04:00', '-06:00:00' or '+01:00'; None if not an offset.

    >>> utc_offset_s("GMT -04:00"), utc_offset_s("-06:00:00"), utc_offset_s("-1")
    (-14400.0, -21600.0, None)
    """
    match = _OFFSET.fullmatch(text.strip()) or _OFFSET.match(text.strip())
    if match is None or ":" not in text:
        return None
    sign = -1.0 if match[1] == "-" else 1.0
    return sign * (int(match[2]) * 3600 + int(match[3]) * 60)


def _metadata_offset(metadata: dict[str, Any]) -> float | None:
    for section in metadata.values():
        if not isinstance(section, dict):
            continue
        for key, value in section.items():
            if key.replace(" ", "").replace("_", "").lower() == "timezone":
                return utc_offset_s(str(value))
    return None


def _actfast(path: Path) -> Samples:
    try:
        import actfast
    except ImportError:
        raise TraceError(f"{path}: reading device files needs actfast: {_EXTRA}") from None
    try:
        data = actfast.read(str(path))
    except (ValueError, OSError, RuntimeError) as err:
        raise TraceError(f"{path}: unreadable ({str(err).splitlines()[0]})") from None
    series = [s for s in data["timeseries"].values() if "acceleration" in s]
    if not series or len(series[0]["datetime"]) == 0:
        raise TraceError(f"{path}: no acceleration samples in the file")
    local_ns = np.asarray(series[0]["datetime"], dtype=np.int64)
    accel = np.asarray(series[0]["acceleration"], dtype=np.float32)
    offset = _metadata_offset(data.get("metadata", {}))
    notes = [f"{path.name}: {w}" for w in data.get("warnings", [])]
    if offset is None:
        notes.append("the file does not say the device clock's time zone: taken as UTC")
        offset = 0.0
    t = (local_ns - local_ns[0]) / 1e9 + (local_ns[0] / 1e9 - offset)
    return t, accel, notes


def _pygt3x(path: Path) -> Samples:
    try:
        from pygt3x.reader import FileReader
    except ImportError:
        raise TraceError(
            f"{path}: an older ActiGraph file (activity.bin): reading it needs ActiGraph's "
            "pygt3x (GPL-3.0): pip install 'posture-monitor[actigraph-legacy]'"
        ) from None
    quiet = logging.getLogger("pygt3x")  # it logs a warning for a last, partial second
    level = quiet.level
    try:
        quiet.setLevel(logging.ERROR)
        with warnings.catch_warnings(), FileReader(str(path)) as reader:
            warnings.simplefilter("ignore")  # its use of pandas' deprecated API
            frame = reader.to_pandas()
            info = reader.info
    except (ValueError, OSError, KeyError, zipfile.BadZipFile) as err:
        raise TraceError(f"{path}: unreadable ({str(err).splitlines()[0]})") from None
    finally:
        quiet.setLevel(level)
    rate = float(info.sample_rate)
    if frame.empty or not rate > 0:
        raise TraceError(f"{path}: no acceleration samples in the file")
    offset = utc_offset_s(str(info.timezone or ""))
    notes = []
    if offset is None:
        notes.append("the file does not say the device clock's time zone: taken as UTC")
        offset = 0.0
    start_s = (int(info.start_date) - _TICKS_AT_UNIX_EPOCH) / 1e7 - offset
    # this format holds whole seconds of samples at the configured rate, without gaps
    t = start_s + np.arange(len(frame)) / rate
    accel = frame[["X", "Y", "Z"]].to_numpy(dtype=np.float32)
    return t, accel, notes


def _legacy_gt3x(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return "activity.bin" in names and "log.bin" not in names


def read_device(path: Path) -> Samples:
    """Sample times (unix seconds), (n, 3) accelerations in g and notes; raises `TraceError`."""
    if path.suffix.lower() == ".gt3x" and _legacy_gt3x(path):
        return _pygt3x(path)
    return _actfast(path)
