"""What each dashboard panel must show, computed in plain Python from the analytics' own output
(and the nudges and device reports published), independently of InfluxQL.

`ORACLES` maps a panel query's key (`<dashboard uid>/<panel title>/<refId>`) to a function of
the fleet and the selection that returns the expected rows: dicts with `time` (unix seconds), the
tags the query groups by, and the query's value columns.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from analytics.effect import wilson
from analytics.records import (
    LOSS_REASONS,
    DeviceHealth,
    Event,
    EventKind,
    GatewayHealth,
    MinuteMetrics,
    Posture,
)
from dashboards.boards.panels import Selection
from dashboards.queries import MIN_GROUP_SIZE

from .fleet_data import TZ, Fleet, Wearer

Row = dict[str, object]
Oracle = Callable[[Fleet, Selection, int], list[Row]]
ORACLES: dict[str, Oracle] = {}
WEARER_ORACLES: dict[str, Callable[[Wearer, Selection], list[Row]]] = {}
WORN = (Posture.SITTING, Posture.STANDING, Posture.WALKING, Posture.LYING)


def oracle(key: str) -> Callable[[Oracle], Oracle]:
    def register(f: Oracle) -> Oracle:
        ORACLES[key] = f
        return f

    return register


def wearer_oracle(
    key: str,
) -> Callable[[Callable[[Wearer, Selection], list[Row]]], Callable[[Wearer, Selection], list[Row]]]:
    def register(
        f: Callable[[Wearer, Selection], list[Row]],
    ) -> Callable[[Wearer, Selection], list[Row]]:
        WEARER_ORACLES[key] = f
        return f

    return register


def day(t: float) -> float:
    """Local midnight of the calendar day of `t` in the dashboards' test time zone."""
    local = datetime.fromtimestamp(t, ZoneInfo(TZ))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def hour(t: float) -> int:
    return datetime.fromtimestamp(t, ZoneInfo(TZ)).hour


def bucket(t: float, every_s: float) -> float:
    return math.floor(t / every_s) * every_s


def minutes(w: Wearer, sel: Selection) -> list[MinuteMetrics]:
    return [m for m in w.minutes if sel.start_s <= m.start_s <= sel.end_s]


def events(w: Wearer, sel: Selection, kind: EventKind, **values: object) -> list[Event]:
    return [
        e
        for e in w.of(kind)
        if sel.start_s <= e.start_s <= sel.end_s
        and all(e.values.get(k) == v for k, v in values.items())
    ]


def ratio(num: float, den: float) -> float:
    return num / den if den else 0.0  # InfluxQL divides by zero as 0


# -- team aggregates --------------------------------------------------------------------------


def gated(
    fleet: Fleet,
    sel: Selection,
    min_group: int,
    per_wearer: Callable[[Wearer, list[MinuteMetrics], list[Event]], Row | None],
    combine: Callable[[list[Row]], Row],
    *,
    daily: bool = True,
    by_team: bool = True,
    source: str = "minutes",
) -> list[Row]:
    """Per-wearer values per day (or over the range), combined per team over `min_group`+."""
    groups: dict[tuple[str, float], list[Row]] = defaultdict(list)
    for w in fleet.wearers:
        ms, es = minutes(w, sel), [e for e in w.events if sel.start_s <= e.start_s <= sel.end_s]
        times = [m.start_s for m in ms] if source == "minutes" else [e.start_s for e in es]
        for d in sorted({day(t) for t in times}) if daily else [sel.start_s]:
            in_day = (lambda t, d=d: day(t) == d) if daily else (lambda t: True)
            value = per_wearer(
                w, [m for m in ms if in_day(m.start_s)], [e for e in es if in_day(e.start_s)]
            )
            if value is not None:
                groups[(w.team if by_team else "", d)].append(value)
    rows = []
    for (team, t), values in groups.items():
        if len(values) >= min_group:
            rows.append({"time": t, **({"team": team} if by_team else {}), **combine(values)})
    return rows


def _sum(rows: Iterable[Row], key: str) -> float:
    return sum(float(r[key]) for r in rows)  # type: ignore[arg-type]


def _mean(rows: list[Row], key: str, alias: str) -> Row:
    return {alias: _sum(rows, key) / len(rows)}


def _of(es: list[Event], kind: EventKind, **values: object) -> list[Event]:
    return [
        e for e in es if e.kind is kind and all(e.values.get(k) == v for k, v in values.items())
    ]


def _posture_s(ms: list[MinuteMetrics], *postures: Posture) -> int:
    return sum(m.posture_s[p] for m in ms for p in postures)


@oracle("posture-team/Sitting per wearer and day/A")
def _sitting(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return gated(
        fleet,
        sel,
        g,
        lambda w, ms, es: {"s": _posture_s(ms, Posture.SITTING) / 3600} if ms else None,
        lambda rows: _mean(rows, "s", "sitting_h"),
    )


@oracle("posture-team/Upright per wearer and day/A")
def _upright(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return gated(
        fleet,
        sel,
        g,
        lambda w, ms, es: (
            {"s": _posture_s(ms, Posture.STANDING, Posture.WALKING) / 3600} if ms else None
        ),
        lambda rows: _mean(rows, "s", "upright_h"),
    )


def _bouts(es: list[Event]) -> list[Event]:
    return _of(es, EventKind.SITTING_BOUT)


@oracle("posture-team/Prolonged sitting bouts per wearer and day/A")
def _prolonged(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return gated(
        fleet,
        sel,
        g,
        lambda w, ms, es: (
            {"p": len(_of(es, EventKind.SITTING_BOUT, prolonged=True))} if _bouts(es) else None
        ),
        lambda rows: {"prolonged": _sum(rows, "p") / len(rows)},
        source="events",
    )


@oracle("posture-team/Breaks per sitting hour/A")
def _breaks(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    def per_wearer(w: Wearer, ms: list[MinuteMetrics], es: list[Event]) -> Row | None:
        bouts = _bouts(es)
        if not bouts:
            return None
        breaks = len(_of(es, EventKind.SITTING_BOUT, ended_by="break"))
        return {"b": breaks, "s": sum(float(b.values["sitting_s"]) for b in bouts)}

    return gated(
        fleet,
        sel,
        g,
        per_wearer,
        lambda rows: {"breaks_per_h": ratio(_sum(rows, "b") * 3600, _sum(rows, "s"))},
        source="events",
    )


@oracle("posture-team/Slouched share of sitting/A")
def _slouch(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return gated(
        fleet,
        sel,
        g,
        lambda w, ms, es: (
            {"sl": sum(m.slouch_s for m in ms), "s": _posture_s(ms, Posture.SITTING)}
            if ms
            else None
        ),
        lambda rows: {"slouch_share": ratio(_sum(rows, "sl"), _sum(rows, "s"))},
    )


@oracle("posture-team/Trunk inclination bands/A")
def _bands(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    def combine(rows: list[Row]) -> Row:
        totals = [_sum(rows, f"b{i}") for i in range(3)]
        names = ("band_0_20", "band_20_60", "band_over_60")
        return {n: ratio(t, sum(totals)) for n, t in zip(names, totals, strict=True)}

    return gated(
        fleet,
        sel,
        g,
        lambda w, ms, es: {f"b{i}": sum(m.band_s[i] for m in ms) for i in range(3)} if ms else None,
        combine,
        daily=False,
    )


def _hour_of_day(h: int) -> Oracle:
    def expected(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
        cells: dict[float, list[float]] = defaultdict(list)
        for w in fleet.wearers:
            per_day: dict[float, list[MinuteMetrics]] = defaultdict(list)
            for m in minutes(w, sel):
                if hour(m.start_s) == h:
                    per_day[day(m.start_s)].append(m)
            for d, ms in per_day.items():
                cells[d].append(_posture_s(ms, Posture.SITTING) / 60)
        return [
            {"time": d, "sitting_min": sum(v) / len(v)} for d, v in cells.items() if len(v) >= g
        ]

    return expected


for _h in range(24):
    ORACLES[f"posture-team/Sitting by hour of day/H{_h:02d}"] = _hour_of_day(_h)


# -- nudges -----------------------------------------------------------------------------------

REASONS = {"A": "sitting", "B": "slouch"}


def _nudges_per_day(reason: str) -> Oracle:
    def expected(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
        return gated(
            fleet,
            sel,
            g,
            lambda w, ms, es: (
                {"n": len(n)} if (n := _of(es, EventKind.NUDGE, reason=reason)) else None
            ),
            lambda rows: _mean(rows, "n", "nudges"),
            source="events",
        )

    return expected


def _response_rate(reason: str, *, daily: bool) -> Oracle:
    def expected(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
        def per_wearer(w: Wearer, ms: list[MinuteMetrics], es: list[Event]) -> Row | None:
            outcomes = _of(es, EventKind.NUDGE_OUTCOME, reason=reason)
            if not outcomes:
                return None
            return {"r": sum(1 for o in outcomes if o.values["responded"]), "n": len(outcomes)}

        return gated(
            fleet,
            sel,
            g,
            per_wearer,
            lambda rows: {"response_rate": ratio(_sum(rows, "r"), _sum(rows, "n"))},
            daily=daily,
            source="events",
        )

    return expected


def _response_time(reason: str) -> Oracle:
    def expected(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
        def per_wearer(w: Wearer, ms: list[MinuteMetrics], es: list[Event]) -> Row | None:
            answered = _of(es, EventKind.NUDGE_OUTCOME, reason=reason, responded=True)
            if not answered:
                return None
            return {"t": sum(float(o.values["response_s"]) for o in answered), "k": len(answered)}

        return gated(
            fleet,
            sel,
            g,
            per_wearer,
            lambda rows: {"response_min": _sum(rows, "t") / 60 / _sum(rows, "k")},
            daily=False,
            source="events",
        )

    return expected


def _after(decision: str) -> Oracle:
    """Breaks after movement-break decision points of one arm, with the Wilson interval."""

    def expected(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
        def per_wearer(w: Wearer, ms: list[MinuteMetrics], es: list[Event]) -> Row | None:
            made = _of(es, EventKind.NUDGE_DECISION, reason="sitting", decision=decision)
            if not made:
                return None
            return {"k": sum(1 for d in made if d.values.get("responded")), "n": len(made)}

        def combine(rows: list[Row]) -> Row:
            k, n = int(_sum(rows, "k")), int(_sum(rows, "n"))
            lo, hi = wilson(k, n)
            return {"rate": k / n, "lower": lo, "upper": hi, "decisions": n}

        return gated(fleet, sel, g, per_wearer, combine, daily=False, source="events")

    return expected


ORACLES["posture-nudges/Break after sent and withheld nudges/A"] = _after("sent")
ORACLES["posture-nudges/Break after sent and withheld nudges/B"] = _after("withheld")

for _ref, _reason in REASONS.items():
    ORACLES[f"posture-nudges/Nudges per wearer and day/{_ref}"] = _nudges_per_day(_reason)
    ORACLES[f"posture-nudges/Nudges followed by a response/{_ref}"] = _response_rate(
        _reason, daily=True
    )
    ORACLES[f"posture-nudges/Response rate over the range/{_ref}"] = _response_rate(
        _reason, daily=False
    )
    ORACLES[f"posture-nudges/Time to respond/{_ref}"] = _response_time(_reason)


# -- one wearer -------------------------------------------------------------------------------


def _total(
    w: Wearer, sel: Selection, alias: str, value: Callable[[list[MinuteMetrics]], float]
) -> list[Row]:
    ms = minutes(w, sel)
    return [{"time": sel.start_s, alias: value(ms)}] if ms else []


@wearer_oracle("posture-wearer/Sitting/A")
def _w_sitting(w: Wearer, sel: Selection) -> list[Row]:
    return _total(w, sel, "sitting_h", lambda ms: _posture_s(ms, Posture.SITTING) / 3600)


@wearer_oracle("posture-wearer/Upright/A")
def _w_upright(w: Wearer, sel: Selection) -> list[Row]:
    return _total(
        w, sel, "upright_h", lambda ms: _posture_s(ms, Posture.STANDING, Posture.WALKING) / 3600
    )


@wearer_oracle("posture-wearer/Worn/A")
def _w_worn(w: Wearer, sel: Selection) -> list[Row]:
    return _total(w, sel, "worn_h", lambda ms: _posture_s(ms, *WORN) / 3600)


@wearer_oracle("posture-wearer/Longest sitting bout/A")
def _w_longest(w: Wearer, sel: Selection) -> list[Row]:
    bouts = events(w, sel, EventKind.SITTING_BOUT)
    if not bouts:
        return []
    longest = max(bouts, key=lambda b: (b.duration_s, -b.start_s))
    return [{"time": longest.start_s, "longest_min": longest.duration_s / 60}]


@wearer_oracle("posture-wearer/Prolonged bouts/A")
def _w_prolonged(w: Wearer, sel: Selection) -> list[Row]:
    n = len(events(w, sel, EventKind.SITTING_BOUT, prolonged=True))
    return [{"time": sel.start_s, "prolonged": n}] if n else []


@wearer_oracle("posture-wearer/Breaks per sitting hour/A")
def _w_breaks(w: Wearer, sel: Selection) -> list[Row]:
    bouts = events(w, sel, EventKind.SITTING_BOUT)
    breaks = [b for b in bouts if b.values.get("ended_by") == "break"]
    if not bouts:
        return []
    sitting = sum(float(b.values["sitting_s"]) for b in bouts)
    return [
        {
            "time": sel.start_s,
            "breaks_per_h": ratio(len(breaks) * 3600, sitting),
        }
    ]


@wearer_oracle("posture-wearer/Slouched share of sitting/A")
def _w_slouch(w: Wearer, sel: Selection) -> list[Row]:
    return _total(
        w,
        sel,
        "slouch_share",
        lambda ms: ratio(sum(m.slouch_s for m in ms), _posture_s(ms, Posture.SITTING)),
    )


@wearer_oracle("posture-wearer/Nudges answered/A")
def _w_answered(w: Wearer, sel: Selection) -> list[Row]:
    outcomes = events(w, sel, EventKind.NUDGE_OUTCOME)
    if not outcomes:
        return []
    answered = sum(1 for o in outcomes if o.values["responded"])
    return [{"time": sel.start_s, "response_rate": answered / len(outcomes)}]


def _per_interval(
    w: Wearer, sel: Selection, columns: Callable[[list[MinuteMetrics]], Row | None]
) -> list[Row]:
    groups: dict[float, list[MinuteMetrics]] = defaultdict(list)
    for m in minutes(w, sel):
        groups[bucket(m.start_s, sel.interval_s)].append(m)
    rows = []
    for t, ms in sorted(groups.items()):
        values = columns(ms)
        if values is not None:
            rows.append({"time": t, **values})
    return rows


@wearer_oracle("posture-wearer/Posture timeline/A")
def _w_timeline(w: Wearer, sel: Selection) -> list[Row]:
    return _per_interval(w, sel, lambda ms: {p.value: _posture_s(ms, p) / 60 for p in Posture})


@wearer_oracle("posture-wearer/Trunk flexion/A")
def _w_flexion(w: Wearer, sel: Selection) -> list[Row]:
    def columns(ms: list[MinuteMetrics]) -> Row | None:
        means = [m.flexion_mean_deg for m in ms if m.flexion_mean_deg is not None]
        maxes = [m.flexion_max_deg for m in ms if m.flexion_max_deg is not None]
        if not means:
            return None
        return {"mean_deg": sum(means) / len(means), "max_deg": max(maxes)}

    return _per_interval(w, sel, columns)


@wearer_oracle("posture-wearer/Time in trunk inclination bands/A")
def _w_bands(w: Wearer, sel: Selection) -> list[Row]:
    names = ("band_0_20", "band_20_60", "band_over_60")
    return _per_interval(
        w, sel, lambda ms: {n: sum(m.band_s[i] for m in ms) / 60 for i, n in enumerate(names)}
    )


@wearer_oracle("posture-wearer/Sideways bending/A")
def _w_sideways(w: Wearer, sel: Selection) -> list[Row]:
    return _per_interval(
        w, sel, lambda ms: {"bent_sideways_over_10": sum(m.lateral_s for m in ms) / 60}
    )


@wearer_oracle("posture-wearer/Sitting bouts/A")
def _w_bouts(w: Wearer, sel: Selection) -> list[Row]:
    return [
        {"time": b.start_s, "bout_min": b.duration_s / 60}
        for b in events(w, sel, EventKind.SITTING_BOUT)
    ]


@wearer_oracle("posture-wearer/Slouch episodes/A")
def _w_slouches(w: Wearer, sel: Selection) -> list[Row]:
    return [
        {"time": e.start_s, "slouch_min": e.duration_s / 60}
        for e in events(w, sel, EventKind.SLOUCH)
    ]


@wearer_oracle("posture-wearer/Nudges and responses/A")
def _w_nudges(w: Wearer, sel: Selection) -> list[Row]:
    return [
        {
            "time": o.start_s,
            "reason": o.values["reason"],
            "responded": o.values["responded"],
            "response_s": o.values.get("response_s"),
        }
        for o in events(w, sel, EventKind.NUDGE_OUTCOME)
    ]


@wearer_oracle("posture-wearer/Wear time per day/A")
def _w_wear(w: Wearer, sel: Selection) -> list[Row]:
    per_day: dict[float, int] = defaultdict(int)
    for m in minutes(w, sel):
        per_day[day(m.start_s)] += _posture_s([m], *WORN)
    return [{"time": d, "worn_h": s / 3600} for d, s in sorted(per_day.items())]


# -- fleet health -----------------------------------------------------------------------------


def _reports(fleet: Fleet, sel: Selection) -> list[DeviceHealth]:
    return [h for h in fleet.devices if sel.start_s <= h.t_s <= sel.end_s]


def _per_sensor_interval(
    fleet: Fleet, sel: Selection, columns: Callable[[list[DeviceHealth]], Row]
) -> list[Row]:
    groups: dict[tuple[str, str, float], list[DeviceHealth]] = defaultdict(list)
    for h in _reports(fleet, sel):
        groups[(h.gateway_id, h.sensor_id, bucket(h.t_s, sel.interval_s))].append(h)
    return [
        {"time": t, "gateway": g, "sensor": s, **columns(hs)}
        for (g, s, t), hs in sorted(groups.items())
    ]


def _last(hs: list[DeviceHealth]) -> DeviceHealth:
    return max(hs, key=lambda h: h.t_s)


@oracle("posture-fleet/Gateways reporting/A")
def _gateways(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return [{"time": sel.start_s, "gateways": len({h.gateway_id for h in _reports(fleet, sel)})}]


@oracle("posture-fleet/Sensors connected/A")
def _connected(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    last: dict[tuple[str, str], DeviceHealth] = {}
    for h in sorted(_reports(fleet, sel), key=lambda h: h.t_s):
        last[(h.gateway_id, h.sensor_id)] = h
    return [{"time": sel.start_s, "sensors": sum(1 for h in last.values() if h.connected)}]


@oracle("posture-fleet/Sensors/A")
def _sensors(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    groups: dict[tuple[str, ...], list[DeviceHealth]] = defaultdict(list)
    for h in _reports(fleet, sel):
        groups[(h.gateway_id, h.sensor_id, h.wearer_id, h.placement.value, h.profile)].append(h)
    rows = []
    for (gw, sensor, wearer, placement, profile), hs in groups.items():
        last = _last(hs)
        rows.append(
            {
                "time": last.t_s,
                "gateway": gw,
                "sensor": sensor,
                "wearer": wearer,
                "placement": placement,
                "profile": profile,
                "connected": last.connected,
            }
        )
    return rows


@oracle("posture-fleet/Battery/A")
def _battery(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _per_sensor_interval(fleet, sel, lambda hs: {"battery": _last(hs).battery_pct})


@oracle("posture-fleet/Connection/A")
def _connection(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _per_sensor_interval(fleet, sel, lambda hs: {"connected": _last(hs).connected})


@oracle("posture-fleet/Signal strength/A")
def _rssi(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _per_sensor_interval(
        fleet, sel, lambda hs: {"rssi": sum(float(h.rssi_dbm or 0) for h in hs) / len(hs)}
    )


def _differences(fleet: Fleet, sel: Selection, value: Callable[[Row, Row], Row]) -> list[Row]:
    lasts = _per_sensor_interval(
        fleet,
        sel,
        lambda hs: {
            "lost": _last(hs).lost,
            "samples": _last(hs).samples,
            "reconnects": _last(hs).reconnects,
        },
    )
    rows = []
    for prev, cur in itertools.pairwise(lasts):
        if (prev["gateway"], prev["sensor"]) == (cur["gateway"], cur["sensor"]):
            rows.append({k: cur[k] for k in ("time", "gateway", "sensor")} | value(prev, cur))
    return rows


def _diff(prev: Row, cur: Row, key: str) -> float:
    return max(0.0, float(cur[key]) - float(prev[key]))  # type: ignore[arg-type]


@oracle("posture-fleet/Packet loss/A")
def _loss(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _differences(
        fleet,
        sel,
        lambda p, c: {
            "loss": ratio(_diff(p, c, "lost"), _diff(p, c, "samples") + _diff(p, c, "lost"))
        },
    )


@oracle("posture-fleet/Reconnects/A")
def _reconnects(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _differences(fleet, sel, lambda p, c: {"reconnects": _diff(p, c, "reconnects")})


MIN_GROUP = MIN_GROUP_SIZE


@oracle("posture-fleet/Samples lost by reason/A")
def _lost_by(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    groups: dict[tuple[str, str, str], list[DeviceHealth]] = defaultdict(list)
    for h in _reports(fleet, sel):
        groups[(h.gateway_id, h.sensor_id, h.wearer_id)].append(h)
    return [
        {"time": sel.start_s, "gateway": gw, "sensor": sensor, "wearer": wearer}
        | {reason: _last(hs).lost_by.get(reason, 0) for reason in LOSS_REASONS}
        for (gw, sensor, wearer), hs in groups.items()
    ]


def _per_gateway_interval(
    fleet: Fleet, sel: Selection, columns: Callable[[list[GatewayHealth]], Row]
) -> list[Row]:
    groups: dict[tuple[str, float], list[GatewayHealth]] = defaultdict(list)
    for h in fleet.gateways:
        if sel.start_s <= h.t_s <= sel.end_s:
            groups[(h.gateway_id, bucket(h.t_s, sel.interval_s))].append(h)
    return [{"time": t, "gateway": g, **columns(hs)} for (g, t), hs in sorted(groups.items())]


def _last_gateway(hs: list[GatewayHealth]) -> GatewayHealth:
    return max(hs, key=lambda h: h.t_s)


@oracle("posture-fleet/Gateway outbox/A")
def _outbox(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _per_gateway_interval(
        fleet, sel, lambda hs: {"messages": _last_gateway(hs).outbox_depth}
    )


@oracle("posture-fleet/Oldest unconfirmed message/A")
def _oldest(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _per_gateway_interval(
        fleet, sel, lambda hs: {"oldest": _last_gateway(hs).outbox_oldest_s}
    )


@oracle("posture-fleet/Radio loop lag/A")
def _lag(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _per_gateway_interval(fleet, sel, lambda hs: {"lag": max(h.loop_lag_ms for h in hs)})


@oracle("posture-fleet/Messages not kept/A")
def _not_kept(fleet: Fleet, sel: Selection, g: int) -> list[Row]:
    return _per_gateway_interval(
        fleet, sel, lambda hs: {"dropped": _last_gateway(hs).outbox_dropped}
    )
