"""Fleet health: sensors and gateways (battery, connection, packet loss and why, signal; each
gateway's radio loop and outbox)."""

from __future__ import annotations

from collections.abc import Sequence

from analytics.records import LOSS_REASONS
from dashboards.boards.panels import Json, Panel, dashboard, query_variable, target
from dashboards.queries import GATEWAY, select

from .common import BARS, LINKS, by_name, thresholds


def _device(
    columns: str,
    *,
    by: Sequence[str] = ('"gateway"', '"sensor"'),
    every: str | None = None,
) -> str:
    """A query over the selected gateways' sensor reports, per sensor (or as grouped)."""
    fill = "none" if every else None
    return select(columns, '"device"', conditions=[GATEWAY], every=every, by=by, fill=fill)


def _gateway(columns: str, *, every: str | None = None) -> str:
    """A query over the selected gateways' own health reports, per gateway."""
    fill = "none" if every else None
    return select(
        columns, '"gateway"', conditions=[GATEWAY], every=every, by=['"gateway"'], fill=fill
    )


LOSS_COLUMNS = ", ".join(f'last("lost_{r}") AS {r}' for r in LOSS_REASONS)


def wearer_link() -> Json:
    """The table's wearer cells open that wearer's drill-down over the same time range."""
    return by_name(
        "wearer",
        links=[
            {
                "title": "Wearer drill-down",
                "url": "/d/posture-wearer?var-wearer=${__value.raw}&${__url_time_range}",
            }
        ],
    )


def fleet_health() -> Json:
    every = "$__interval"
    sensor = "$tag_gateway $tag_sensor"
    panels = [
        Panel(
            "Gateways reporting",
            "stat",
            [
                target(
                    select(
                        "count(last_samples) AS gateways",
                        "({})".format(_device('last("samples") AS last_samples', by=['"gateway"'])),
                    )
                )
            ],
            description="Gateways that sent a sensor report in the time range.",
            unit="none",
            width=6,
            height=4,
            defaults={"noValue": "0"},
        ),
        Panel(
            "Sensors connected",
            "stat",
            [
                target(
                    select(
                        "count(connected) AS sensors",
                        "({})".format(_device('last("connected") AS connected')),
                        conditions=["connected = true"],
                    )
                )
            ],
            description="Sensors whose last report in the time range says they were connected.",
            unit="none",
            width=6,
            height=4,
            defaults={"noValue": "0"},
        ),
        Panel(
            "Sensors",
            "table",
            [
                target(
                    _device(
                        'last("connected") AS connected',
                        by=('"gateway"', '"sensor"', '"wearer"', '"placement"', '"profile"'),
                    ),
                    table=True,
                )
            ],
            description=(
                "Each sensor's last report (time) and whether it was connected then; a wearer "
                "opens that wearer's drill-down."
            ),
            unit="bool_yes_no",
            overrides=[wearer_link()],
            width=12,
            height=8,
        ),
        Panel(
            "Battery",
            "timeseries",
            [target(_device('last("battery_pct") AS battery', every=every), alias=sensor)],
            description="Battery charge each sensor reported; below 15 % it needs charging soon.",
            unit="percent",
            defaults={
                "min": 0,
                "max": 100,
                **thresholds(("red", None), ("orange", 15), ("green", 30)),
            },
        ),
        Panel(
            "Connection",
            "state-timeline",
            [target(_device('last("connected") AS connected', every=every), alias=sensor)],
            description="Whether each sensor was connected to its gateway, report by report.",
            unit="bool_yes_no",
            options={"mergeValues": True, "showValue": "never"},
            defaults={
                "mappings": [
                    {
                        "type": "value",
                        "options": {
                            "true": {"text": "connected", "color": "green"},
                            "false": {"text": "lost", "color": "red"},
                        },
                    }
                ]
            },
        ),
        Panel(
            "Packet loss",
            "timeseries",
            [
                target(
                    _device(
                        'non_negative_difference(last("lost")) * 1.0 / (non_negative_difference('
                        'last("samples")) + non_negative_difference(last("lost"))) AS loss',
                        every=every,
                    ),
                    alias=sensor,
                )
            ],
            description="Samples lost (gaps the gateway detected) as a share of samples expected.",
            unit="percentunit",
        ),
        Panel(
            "Samples lost by reason",
            "table",
            [
                target(
                    _device(LOSS_COLUMNS, by=('"gateway"', '"sensor"', '"wearer"')),
                    table=True,
                )
            ],
            description=(
                "Each sensor's samples lost since its gateway started, by why: gap (between "
                "packets while connected: radio, or the sensor's buffer), disconnected (while "
                "the link was down), queue (the analytics could not keep up), clock (timed "
                "before samples already taken)."
            ),
            unit="none",
            width=12,
            height=8,
        ),
        Panel(
            "Gateway outbox",
            "timeseries",
            [
                target(
                    _gateway('last("outbox_depth") AS messages', every=every), alias="$tag_gateway"
                )
            ],
            description=(
                "Messages each gateway keeps until a recorder confirms they are in InfluxDB: "
                "growing while the broker or every recorder is away, back to a few when they "
                "return."
            ),
            unit="short",
        ),
        Panel(
            "Oldest unconfirmed message",
            "timeseries",
            [
                target(
                    _gateway('last("outbox_oldest_s") AS oldest', every=every),
                    alias="$tag_gateway",
                )
            ],
            description="How long the oldest message in each gateway's outbox has waited.",
            unit="s",
        ),
        Panel(
            "Radio loop lag",
            "timeseries",
            [target(_gateway('max("loop_lag_ms") AS lag', every=every), alias="$tag_gateway")],
            description=(
                "The longest a gateway's radio loop was held up: notifications wait that long. "
                "Over 250 ms it is also logged."
            ),
            unit="ms",
            defaults=thresholds(("green", None), ("orange", 50), ("red", 250)),
        ),
        Panel(
            "Messages not kept",
            "timeseries",
            [
                target(
                    _gateway('last("outbox_dropped") AS dropped', every=every),
                    alias="$tag_gateway",
                )
            ],
            description=(
                "Messages a gateway could not keep because its outbox or its disk was full, "
                "since it started (each is also logged): should stay 0."
            ),
            unit="short",
            defaults=thresholds(("green", None), ("red", 1)),
        ),
        Panel(
            "Reconnects",
            "timeseries",
            [
                target(
                    _device(
                        'non_negative_difference(last("reconnects")) AS reconnects', every=every
                    ),
                    alias=sensor,
                )
            ],
            description="Times the gateway had to connect to the sensor again, per interval.",
            unit="none",
            custom=BARS,
        ),
        Panel(
            "Signal strength",
            "timeseries",
            [target(_device('mean("rssi_dbm") AS rssi', every=every), alias=sensor)],
            description="Received signal strength at the gateway; below about -90 dBm it drops.",
            unit="dBm",
        ),
    ]
    variables = [
        query_variable("gateway", "Gateway", 'SHOW TAG VALUES FROM "device" WITH KEY = "gateway"'),
    ]
    return dashboard(
        "posture-fleet",
        "Posture - fleet health",
        panels,
        variables,
        description=(
            "Sensors and gateways: battery, connection, packet loss and why, signal; each "
            "gateway's radio loop and outbox."
        ),
        tags=["posture", "fleet"],
        links=LINKS,
        time_from="now-6h",
        refresh="1m",
    )
