"""Per-minute metrics: posture seconds add up, and seconds without data say why."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from analytics.minutes import MinuteAggregator
from analytics.records import Posture
from tests.synthetic import timeline

T0 = 1_800_000_000.0  # a whole minute


def measured(minutes: float, *, missing: tuple[int, int] = (0, 0)):  # type: ignore[no-untyped-def]
    """Sitting seconds with something measured, except seconds [a, b) (no data: NaN)."""
    tl = timeline(T0, (Posture.SITTING, minutes))
    enmo = np.full(len(tl), 0.01)
    enmo[missing[0] : missing[1]] = np.nan
    return dataclasses.replace(tl, enmo_g=enmo)


def test_every_minute_adds_up_to_60_and_a_full_one_has_no_seconds_without_data() -> None:
    aggregator = MinuteAggregator("w1")
    minutes = aggregator.push(measured(3)) + aggregator.flush()
    assert [sum(m.posture_s.values()) for m in minutes] == [60, 60, 60]
    assert [m.nodata_s for m in minutes] == [{}, {}, {}]


def test_seconds_without_data_are_attributed_to_the_losses_the_gateway_reported() -> None:
    aggregator = MinuteAggregator("w1")
    aggregator.note_loss(T0 + 70, T0 + 80, "disconnected")
    aggregator.note_loss(T0 + 80, T0 + 85, "queue")
    minutes = aggregator.push(measured(3, missing=(70, 90))) + aggregator.flush()
    assert minutes[0].nodata_s == {}
    assert minutes[1].nodata_s == {"disconnected": 10, "queue": 5, "unreported": 5}
    assert minutes[2].nodata_s == {}


def test_a_minute_only_partly_covered_by_data_counts_the_rest_as_unreported() -> None:
    aggregator = MinuteAggregator("w1")
    minutes = aggregator.push(measured(0.5)) + aggregator.flush()
    assert minutes[0].nodata_s == {"unreported": 30}
    assert minutes[0].posture_s[Posture.UNKNOWN] == 30


def test_an_unknown_loss_reason_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown loss reason"):
        MinuteAggregator("w1").note_loss(T0, T0 + 1, "cosmic rays")
