"""The recorder's health: counters and gauges, logged and published as a retained report.

Published on `<root>/recorder/<id>/health` (retained, QoS 0) every `health_interval_s`, with a
retained `offline` report as the MQTT last will; also logged at INFO as one `key=value` line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from analytics.contract import SCHEMA_VERSION


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


def encode_health(health: Health) -> bytes:
    """The health report's JSON payload (type `recorder_health`, schema version 1)."""
    payload: dict[str, Any] = {
        "v": SCHEMA_VERSION,
        "type": "recorder_health",
        "recorder": health.recorder,
        "status": health.status,
        "t": round(health.t_s, 3),
        "held": health.held,
        "lag_s": round(health.lag_s, 3),
        "session": health.session,
        "connected_at": round(health.connected_at_s, 3),
    }
    payload |= asdict(health.stats)
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def encode_offline(recorder: str, t_s: float) -> bytes:
    """The report a recorder leaves when it stops, and its last will (no counters)."""
    payload = {
        "v": SCHEMA_VERSION,
        "type": "recorder_health",
        "recorder": recorder,
        "status": "offline",
        "t": round(t_s, 3),
    }
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
