"""From MQTT to what people see: the recorder (MQTT -> InfluxDB), reading it back, the daily
report and its exports, the Grafana dashboards (docs/architecture.md).

The names below are the package's front door; its modules stay importable on their own, and
nothing is imported before it is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transport.lazy import front_door

_EXPORTS = {
    "Recorder": ("recorder", "Recorder"),
    "RecorderStats": ("recorder", "RecorderStats"),
    "RecorderThread": ("recorder", "RecorderThread"),
    "InfluxClient": ("influx", "InfluxClient"),
    "InfluxError": ("influx", "InfluxError"),
    "InfluxSettings": ("settings", "InfluxSettings"),
    "RecorderSettings": ("settings", "RecorderSettings"),
    "wearer_records": ("readback", "wearer_records"),
    "NoData": ("report", "NoData"),
    "from_influx": ("report", "from_influx"),
    "write_report": ("report", "write"),
    "duration": ("words", "duration"),
}
__all__ = [
    "InfluxClient",
    "InfluxError",
    "InfluxSettings",
    "NoData",
    "Recorder",
    "RecorderSettings",
    "RecorderStats",
    "RecorderThread",
    "duration",
    "from_influx",
    "wearer_records",
    "write_report",
]

if TYPE_CHECKING:
    from .influx import InfluxClient, InfluxError
    from .readback import wearer_records
    from .recorder import Recorder, RecorderStats, RecorderThread
    from .report import NoData, from_influx
    from .report import write as write_report
    from .settings import InfluxSettings, RecorderSettings
    from .words import duration


__getattr__ = front_door(__name__, _EXPORTS)
