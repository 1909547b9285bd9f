"""What the recorder admits beyond the contract: who may say what, and when.

The contract (`analytics.contract`) checks that a payload is well formed. A well-formed record
can still be one the recorder must refuse:

- a time outside the window around now (default 400 days back, 1 day ahead): a sensor clock
  that never got set, a typo in a replay, or a payload made up to fill the database;
- a device report naming a wearer its gateway does not serve. Each gateway announces its
  wearers in its retained status (`<root>/gateway/<id>/status`); the broker's ACL is what stops
  a gateway from writing other wearers' topics, and this check keeps the fleet data, which are
  on the gateway's own topic, to the same wearers.

Every refusal is a `PayloadError` with the reason, which the recorder puts in the dead letter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from analytics.delivery import GatewayStatus
from analytics.records import DeviceHealth, Event, GatewayHealth, MinuteMetrics
from analytics.wire import PayloadError

DAY_S = 86400.0


class Unannounced(PayloadError):
    """A device report from a gateway whose status (its wearers) has not arrived yet."""

    def __init__(self, gateway_id: str) -> None:
        super().__init__(
            f"gateway {gateway_id!r} has not announced the wearers it serves (retained status)"
        )
        self.gateway_id = gateway_id


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """How far from now a record's times may lie."""

    max_age_s: float = 400 * DAY_S
    max_ahead_s: float = DAY_S

    def check(
        self, record: Event | MinuteMetrics | DeviceHealth | GatewayHealth, now_s: float
    ) -> None:
        """Raises `PayloadError` if a time of `record` lies outside the window around `now_s`."""
        times: tuple[float, ...]
        if isinstance(record, Event):
            times = (record.start_s, record.end_s)
        elif isinstance(record, MinuteMetrics):
            times = (record.start_s,)
        else:
            times = (record.t_s,)
        lo, hi = now_s - self.max_age_s, now_s + self.max_ahead_s
        for t in times:
            if not lo <= t <= hi:
                ago_days = (now_s - t) / DAY_S
                raise PayloadError(
                    f"time {t:.0f} is {abs(ago_days):.1f} days "
                    f"{'before' if ago_days > 0 else 'after'} now: outside the window "
                    f"[-{self.max_age_s / DAY_S:g}, +{self.max_ahead_s / DAY_S:g}] days"
                )


class Gateways:
    """The wearers each gateway announced in its retained status (owned by the recorder's loop)."""

    def __init__(self) -> None:
        self._wearers: dict[str, frozenset[str]] = {}

    def announce(self, gateway_id: str, status: GatewayStatus) -> None:
        self._wearers[gateway_id] = status.wearers

    def forget(self, gateway_id: str) -> None:
        self._wearers.pop(gateway_id, None)

    @property
    def announced(self) -> Mapping[str, frozenset[str]]:
        return self._wearers

    def check(self, health: DeviceHealth) -> None:
        """Raises `Unannounced`, or `PayloadError` if the gateway does not serve the wearer."""
        wearers = self._wearers.get(health.gateway_id)
        if wearers is None:
            raise Unannounced(health.gateway_id)
        if health.wearer_id not in wearers:
            raise PayloadError(
                f"gateway {health.gateway_id!r} reported on wearer {health.wearer_id!r}, "
                "which it does not serve (its status names its wearers)"
            )
