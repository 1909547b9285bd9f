"""The recorder: MQTT events, metrics and health reports into InfluxDB, losing nothing and
doubling nothing (docs/recorder.md).

- `service.py`: the `Recorder` itself, its threads and what each owns;
- `translate.py`: a message into its record and line of line protocol (the contract's part);
- `admission.py`: what the recorder admits beyond the contract (who may say what, and when);
- `health.py`: its counters and retained health report;
- `mqttclient.py`: the optional faster paho client;
- `thread.py`: the recorder in a thread of another process (`posture run`, tests).
"""

from .health import Health, RecorderStats
from .service import Received, Recorder
from .thread import RecorderThread
from .translate import Translated, to_line, translate

__all__ = [
    "Health",
    "Received",
    "Recorder",
    "RecorderStats",
    "RecorderThread",
    "Translated",
    "to_line",
    "translate",
]
