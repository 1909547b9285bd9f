"""The recorder's health: counters and gauges, logged and published as a retained report.

Published on `<root>/recorder/<id>/health` (retained, QoS 0) every `health_interval_s`, with a
retained `offline` report as the MQTT last will; also logged at INFO as one `key=value` line.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from analytics.delivery import RecorderHealth, encode_recorder_health


@dataclass
class RecorderStats:
    """Counters since start; written by the recorder's loop (dropped: by paho's thread)."""

    received: int = 0  # messages to record taken from the subscription
    statuses: int = 0  # gateways' statuses taken (the wearers each gateway serves)
    written_messages: int = 0  # messages whose points are in InfluxDB (and acknowledged)
    written_points: int = 0
    rejected: int = 0  # sent to the dead-letter topic
    dropped: int = 0  # QoS 0 messages dropped while the recorder was full
    write_retries: int = 0  # writes retried while InfluxDB was unavailable
    deadletter_refused: int = 0  # dead letters the broker refused (ACL): left unacknowledged
    reconnects: int = 0  # to the broker, after the first connection
    sessions_lost: int = 0  # reconnects the broker answered without this recorder's session
    confirmed: int = 0  # messages confirmed to their gateways (written or dead-lettered)


@dataclass(frozen=True, slots=True)
class Health:
    """A recorder's health at one moment."""

    recorder: str
    status: str  # "online" or "offline"
    t_s: float  # unix seconds
    stats: RecorderStats
    held: int  # messages received and not yet settled (written or dead-lettered)
    lag_s: float  # how long the oldest held message has waited
    session: str = "resumed"  # "new": the broker had no session for us at the last connect
    connected_at_s: float = 0.0  # wall-clock time of that connection

    def to_log(self) -> str:
        s = self.stats
        return (
            f"received={s.received} written={s.written_messages} points={s.written_points} "
            f"rejected={s.rejected} dropped={s.dropped} retries={s.write_retries} "
            f"held={self.held} lag_s={self.lag_s:.1f}"
        )


def report(health: Health) -> RecorderHealth:
    """The retained report of `health` (the contract's `recorder_health`)."""
    return RecorderHealth(
        recorder=health.recorder,
        status=health.status,
        t_s=health.t_s,
        session=health.session,
        connected_at_s=health.connected_at_s,
        held=health.held,
        lag_s=health.lag_s,
        counters=asdict(health.stats),
    )


def encode_health(health: Health) -> bytes:
    """The health report's JSON payload (type `recorder_health`, schema version 1)."""
    return encode_recorder_health(report(health))


def encode_offline(recorder: str, t_s: float) -> bytes:
    """The report a recorder leaves when it stops, and its last will (no counters)."""
    return encode_recorder_health(RecorderHealth(recorder, "offline", t_s))
