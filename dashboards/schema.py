"""The InfluxDB schema: how records become points, and how points read back become records.

Measurements (tags are low-cardinality; values are fields; the point time is the record's own
start time, so writing the same record again overwrites the same point):

- `minute`: one point per wearer and minute.
  tags `wearer`, `team`, `site`; fields `<posture>_s` for every posture, `slouch_s`,
  `flexion_mean_deg`, `flexion_max_deg`, `band_0_20_s`, `band_20_60_s`, `band_60_s`, `enmo_mg`,
  `steps`, `lateral_s`, and `nodata_<reason>_s`: seconds without any data, by why
  (`analytics.records.NODATA_REASONS`; only reasons with seconds are written).
- `event`: one point per event.
  tags `wearer`, `team`, `site`, `kind`; fields `event_id`, `end_s` (unix seconds) and the
  event's values (`analytics.contract.VALUE_TYPES`, e.g. `duration_s`, `posture`, `prolonged`).
- `device`: one point per sensor health report (fleet health).
  tags `gateway`, `sensor`, `wearer`, `placement`, `profile`; fields `connected`,
  `battery_pct`, `rssi_dbm`, `samples`, `lost`, `reconnects`, and `lost_<reason>` for every
  reason samples were lost (`analytics.records.LOSS_REASONS`: gap, disconnected, queue, clock).
- `gateway`: one point per gateway health report.
  tag `gateway`; fields `loop_lag_ms`, `outbox_depth`, `outbox_oldest_s`, `outbox_bytes`,
  `outbox_dropped`, `replayed`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from influxdb_client import Point, WritePrecision

from analytics.contract import VALUE_TYPES
from analytics.records import (
    LOSS_REASONS,
    NODATA_REASONS,
    DeviceHealth,
    Event,
    EventKind,
    GatewayHealth,
    MinuteMetrics,
    Posture,
)

MINUTE: Final = "minute"
EVENT: Final = "event"
DEVICE: Final = "device"
GATEWAY: Final = "gateway"
BAND_FIELDS: Final = ("band_0_20_s", "band_20_60_s", "band_60_s")

# Event values written as tags: they tell apart events of one kind that start together (the
# calibrations of a wearer's trunk and thigh sensors), which would otherwise be one point.
EVENT_TAGS: Final = ("placement",)

# Every field the recorder writes, per measurement, with its type: the dashboards' contract.
FIELDS: Final[dict[str, dict[str, type]]] = {
    MINUTE: {
        **{f"{p.value}_s": int for p in Posture},
        "slouch_s": int,
        "flexion_mean_deg": float,
        "flexion_max_deg": float,
        **dict.fromkeys(BAND_FIELDS, int),
        "enmo_mg": float,
        "steps": int,
        "lateral_s": int,
        **{f"nodata_{reason}_s": int for reason in NODATA_REASONS},
    },
    EVENT: {
        "event_id": str,
        "end_s": float,
        **{k: v for k, v in VALUE_TYPES.items() if k not in EVENT_TAGS},
    },
    DEVICE: {
        "connected": bool,
        "battery_pct": int,
        "rssi_dbm": int,
        "samples": int,
        "lost": int,
        "reconnects": int,
        **{f"lost_{reason}": int for reason in LOSS_REASONS},
    },
    GATEWAY: {
        "loop_lag_ms": float,
        "outbox_depth": int,
        "outbox_oldest_s": float,
        "outbox_bytes": int,
        "outbox_dropped": int,
        "replayed": int,
    },
}
TAGS: Final[dict[str, tuple[str, ...]]] = {
    MINUTE: ("wearer", "team", "site"),
    EVENT: ("wearer", "team", "site", "kind", *EVENT_TAGS),
    DEVICE: ("gateway", "sensor", "wearer", "placement", "profile"),
    GATEWAY: ("gateway",),
}


def to_ms(t_s: float) -> int:
    """Point time in milliseconds (the precision every write uses)."""
    return round(t_s * 1000.0)


def _tags(point: Point, wearer: str, team: str, site: str) -> Point:
    point.tag("wearer", wearer)
    if team:
        point.tag("team", team)
    if site:
        point.tag("site", site)
    return point


def minute_point(m: MinuteMetrics, *, team: str = "", site: str = "") -> Point:
    point = _tags(Point(MINUTE), m.wearer_id, team, site).time(to_ms(m.start_s), WritePrecision.MS)
    for posture in Posture:
        point.field(f"{posture.value}_s", int(m.posture_s.get(posture, 0)))
    point.field("slouch_s", int(m.slouch_s))
    if m.flexion_mean_deg is not None:
        point.field("flexion_mean_deg", float(m.flexion_mean_deg))
    if m.flexion_max_deg is not None:
        point.field("flexion_max_deg", float(m.flexion_max_deg))
    for name, seconds in zip(BAND_FIELDS, m.band_s, strict=True):
        point.field(name, int(seconds))
    point.field("enmo_mg", float(m.enmo_mg))
    point.field("steps", int(m.steps))
    point.field("lateral_s", int(m.lateral_s))
    for reason, seconds in m.nodata_s.items():
        point.field(f"nodata_{reason}_s", int(seconds))
    return point


def event_point(e: Event, *, team: str = "", site: str = "") -> Point:
    point = _tags(Point(EVENT), e.wearer_id, team, site).tag("kind", e.kind.value)
    point.time(to_ms(e.start_s), WritePrecision.MS)
    point.field("event_id", e.event_id)
    point.field("end_s", float(e.end_s))
    for name, value in e.values.items():
        if name in EVENT_TAGS:
            point.tag(name, str(value))
        else:
            point.field(name, float(value) if VALUE_TYPES.get(name) is float else value)
    return point


def device_point(h: DeviceHealth) -> Point:
    point = Point(DEVICE).time(to_ms(h.t_s), WritePrecision.MS)
    point.tag("gateway", h.gateway_id).tag("sensor", h.sensor_id).tag("wearer", h.wearer_id)
    point.tag("placement", h.placement.value).tag("profile", h.profile)
    point.field("connected", h.connected)
    if h.battery_pct is not None:
        point.field("battery_pct", int(h.battery_pct))
    if h.rssi_dbm is not None:
        point.field("rssi_dbm", int(h.rssi_dbm))
    for name in ("samples", "lost", "reconnects"):
        point.field(name, int(getattr(h, name)))
    for reason, n in h.lost_by.items():
        point.field(f"lost_{reason}", int(n))
    return point


def gateway_point(h: GatewayHealth) -> Point:
    point = Point(GATEWAY).time(to_ms(h.t_s), WritePrecision.MS).tag("gateway", h.gateway_id)
    point.field("loop_lag_ms", float(h.loop_lag_ms))
    point.field("outbox_oldest_s", float(h.outbox_oldest_s))
    for name in ("outbox_depth", "outbox_bytes", "outbox_dropped", "replayed"):
        point.field(name, int(getattr(h, name)))
    return point


def minute_from_row(row: Mapping[str, Any]) -> MinuteMetrics:
    """A `MinuteMetrics` from an InfluxQL result row (`time` in seconds, `wearer` and fields)."""
    return MinuteMetrics(
        wearer_id=str(row["wearer"]),
        start_s=float(row["time"]),
        posture_s={p: int(row.get(f"{p.value}_s") or 0) for p in Posture},
        slouch_s=int(row.get("slouch_s") or 0),
        flexion_mean_deg=row.get("flexion_mean_deg"),
        flexion_max_deg=row.get("flexion_max_deg"),
        band_s=(int(row["band_0_20_s"]), int(row["band_20_60_s"]), int(row["band_60_s"])),
        enmo_mg=float(row.get("enmo_mg") or 0.0),
        steps=int(row.get("steps") or 0),
        lateral_s=int(row.get("lateral_s") or 0),
        nodata_s={r: int(row[f"nodata_{r}_s"]) for r in NODATA_REASONS if row.get(f"nodata_{r}_s")},
    )


def event_from_row(row: Mapping[str, Any]) -> Event:
    """An `Event` from an InfluxQL result row (`time` in seconds, tags and fields)."""
    values = {k: row[k] for k in VALUE_TYPES if row.get(k) is not None}
    return Event(
        wearer_id=str(row["wearer"]),
        kind=EventKind(row["kind"]),
        start_s=float(row["time"]),
        end_s=float(row["end_s"]),
        values=values,
    )
