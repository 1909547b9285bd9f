"""Records as InfluxDB line protocol, built directly (the recorder's hot path).

The text is the same, byte for byte, as `influxdb_client.Point.to_line_protocol()` gives for the
points of `dashboards.schema` (tests check this on every record of a simulated day); building it
with f-strings is several times faster than building `Point` objects first. Tags and fields are
sorted by key, as InfluxDB prefers; times are milliseconds.
"""

from __future__ import annotations

from typing import Final

from analytics.contract import VALUE_TYPES
from analytics.records import DeviceHealth, Event, GatewayHealth, MinuteMetrics, Posture, Value

from .schema import DEVICE, EVENT, EVENT_TAGS, GATEWAY, MINUTE, to_ms

_ESCAPE_KEY: Final = str.maketrans(
    {",": r"\,", "=": r"\=", " ": r"\ ", "\n": r"\n", "\t": r"\t", "\r": r"\r"}
)
_ESCAPE_STRING: Final = str.maketrans({'"': r"\"", "\\": r"\\"})


def tag(value: str) -> str:
    """A tag value escaped for line protocol."""
    escaped = value.translate(_ESCAPE_KEY)
    return escaped + " " if escaped.endswith("\\") else escaped


def field(value: Value) -> str:
    """A field value: floats as the shortest repr (a trailing `.0` dropped), ints with `i`."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return f"{value}i"
    if isinstance(value, float):
        text = repr(value)
        return text[:-2] if text.endswith(".0") else text
    return '"' + value.translate(_ESCAPE_STRING) + '"'


def _fields(pairs: list[tuple[str, Value]]) -> str:
    pairs.sort()
    return ",".join(f"{name.translate(_ESCAPE_KEY)}={field(value)}" for name, value in pairs)


def _org_tags(wearer: str, team: str, site: str) -> str:
    # sorted: site < team < wearer
    return (
        (f",site={tag(site)}" if site else "")
        + (f",team={tag(team)}" if team else "")
        + (f",wearer={tag(wearer)}")
    )


def event_line(e: Event, *, team: str = "", site: str = "") -> str:
    """The `event` point of `e`."""
    pairs: list[tuple[str, Value]] = [("event_id", e.event_id), ("end_s", float(e.end_s))]
    for name, value in e.values.items():
        if name not in EVENT_TAGS:
            pairs.append((name, float(value) if VALUE_TYPES.get(name) is float else value))
    tags = f",kind={tag(e.kind.value)}"
    if "placement" in e.values:  # tags in sorted order: kind < placement < site < team < wearer
        tags += f",placement={tag(str(e.values['placement']))}"
    tags += _org_tags(e.wearer_id, team, site)
    return f"{EVENT}{tags} {_fields(pairs)} {to_ms(e.start_s)}"


def _float(value: float) -> str:
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def minute_line(m: MinuteMetrics, *, team: str = "", site: str = "") -> str:
    """The `minute` point of `m` (fields written out in sorted order: the hot path)."""
    p = m.posture_s
    b0, b1, b2 = m.band_s
    mean = "" if m.flexion_mean_deg is None else f"flexion_mean_deg={_float(m.flexion_mean_deg)},"
    peak = "" if m.flexion_max_deg is None else f"flexion_max_deg={_float(m.flexion_max_deg)},"
    return (
        f"{MINUTE}{_org_tags(m.wearer_id, team, site)} "
        f"band_0_20_s={int(b0)}i,band_20_60_s={int(b1)}i,band_60_s={int(b2)}i,"
        f"enmo_mg={_float(m.enmo_mg)},{peak}{mean}"
        f"lateral_s={int(m.lateral_s)}i,"
        f"lying_s={int(p.get(Posture.LYING, 0))}i,"
        + "".join(f"nodata_{r}_s={int(n)}i," for r, n in sorted(m.nodata_s.items()))
        + f"not_worn_s={int(p.get(Posture.NOT_WORN, 0))}i,"
        f"sitting_s={int(p.get(Posture.SITTING, 0))}i,"
        f"slouch_s={int(m.slouch_s)}i,"
        f"standing_s={int(p.get(Posture.STANDING, 0))}i,"
        f"steps={int(m.steps)}i,"
        f"unknown_s={int(p.get(Posture.UNKNOWN, 0))}i,"
        f"walking_s={int(p.get(Posture.WALKING, 0))}i"
        f" {to_ms(m.start_s)}"
    )


def device_line(h: DeviceHealth) -> str:
    """The `device` point of `h`."""
    pairs: list[tuple[str, Value]] = [
        ("connected", h.connected),
        ("samples", int(h.samples)),
        ("lost", int(h.lost)),
        ("reconnects", int(h.reconnects)),
    ]
    if h.battery_pct is not None:
        pairs.append(("battery_pct", int(h.battery_pct)))
    if h.rssi_dbm is not None:
        pairs.append(("rssi_dbm", int(h.rssi_dbm)))
    pairs += [(f"lost_{reason}", int(n)) for reason, n in h.lost_by.items()]
    tags = (
        f",gateway={tag(h.gateway_id)},placement={tag(h.placement.value)}"
        f",profile={tag(h.profile)},sensor={tag(h.sensor_id)},wearer={tag(h.wearer_id)}"
    )
    return f"{DEVICE}{tags} {_fields(pairs)} {to_ms(h.t_s)}"


def gateway_line(h: GatewayHealth) -> str:
    """The `gateway` point of `h`."""
    pairs: list[tuple[str, Value]] = [
        ("loop_lag_ms", float(h.loop_lag_ms)),
        ("outbox_depth", int(h.outbox_depth)),
        ("outbox_oldest_s", float(h.outbox_oldest_s)),
        ("outbox_bytes", int(h.outbox_bytes)),
        ("outbox_dropped", int(h.outbox_dropped)),
        ("replayed", int(h.replayed)),
    ]
    return f"{GATEWAY},gateway={tag(h.gateway_id)} {_fields(pairs)} {to_ms(h.t_s)}"
