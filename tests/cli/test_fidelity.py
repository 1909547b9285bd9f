"""Counting what the live path delivered: the gateway's released records against InfluxDB's."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from analytics.monitor import Output
from analytics.offline import analyze
from analytics.records import DeviceHealth, Placement, WearerState
from posture.fidelity import Delivery, Released, delivery
from sensor_gateway.simulator import simulate_day


@pytest.mark.parametrize(
    ("released", "stored", "expected"),
    [
        (["a", "b", "c"], ["c", "a", "b"], Delivery("event", 3, 0, 0, 0)),
        (["a", "b", "c"], ["a", "c"], Delivery("event", 3, 1, 0, 0)),
        (["a", "b", "b"], ["a", "b", "b", "b"], Delivery("event", 2, 0, 2, 0)),
        (["a"], ["a", "z"], Delivery("event", 1, 0, 0, 1)),
        ([], [], Delivery("event", 0, 0, 0, 0)),
    ],
    ids=["all-once", "one-missing", "replayed-twice-stored-thrice", "stranger", "nothing"],
)
def test_delivery_counts_missing_duplicate_and_unknown_records(
    released: list[str], stored: list[str], expected: Delivery
) -> None:
    assert delivery("event", released, stored) == expected


def test_delivery_keys_may_be_tuples() -> None:
    found = delivery("minute", [("w01", 60.0), ("w02", 60.0)], [("w01", 60.0), ("w01", 120.0)])
    assert (found.missing, found.duplicates, found.unknown) == (1, 0, 1)
    assert found.line() == (
        "minute: 2 released, 1 missing in InfluxDB, 0 duplicate(s), 1 never released"
    )


@dataclass
class RecordingSink:
    """Keeps what reached it."""

    outputs: list[tuple[str, Output]] = field(default_factory=list)
    states: list[tuple[WearerState, float, int | None]] = field(default_factory=list)
    devices: list[DeviceHealth] = field(default_factory=list)

    def publish_device(self, health: DeviceHealth) -> None:
        self.devices.append(health)

    def publish_output(self, wearer_id: str, output: Output) -> None:
        self.outputs.append((wearer_id, output))

    def publish_state(
        self, state: WearerState, *, sitting_today_s: float, battery_pct: int | None
    ) -> None:
        self.states.append((state, sitting_today_s, battery_pct))


def test_released_passes_everything_on_and_keeps_events_and_minutes() -> None:
    day = simulate_day(seed=3, hours=0.3, placements=(Placement.TRUNK,))
    output = analyze(day.traces, wearer_id="w01").output
    assert output.events
    assert output.minutes
    sink = RecordingSink()
    tap = Released(sink)
    halves = len(output.events) // 2, len(output.minutes) // 2
    first = Output(events=output.events[: halves[0]], minutes=output.minutes[: halves[1]])
    second = Output(events=output.events[halves[0] :], minutes=output.minutes[halves[1] :])
    tap.publish_output("w01", first)
    tap.publish_output("w01", second)
    assert [o for _w, o in sink.outputs] == [first, second]
    assert tap.events == output.events
    assert tap.minutes == output.minutes


def test_released_passes_device_reports_on_and_keeps_them() -> None:
    sink = RecordingSink()
    tap = Released(sink, health=sink)
    report = DeviceHealth(
        gateway_id="gw1",
        sensor_id="D0-5E-00-00-00-01",
        wearer_id="w01",
        placement=Placement.TRUNK,
        profile="polar_h10",
        t_s=1_790_000_000.0,
        connected=True,
        battery_pct=87,
        rssi_dbm=None,
        samples=100,
        lost=0,
        reconnects=0,
    )
    tap.publish_device(report)
    assert sink.devices == [report]
    assert tap.devices == [report]
    assert Released(sink).devices == []
