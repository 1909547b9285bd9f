"""Home Assistant MQTT discovery for each wearer (optional, off by default).

Per wearer, one retained device-discovery message on
`<discovery_prefix>/device/posture_<wearer>/config` (Home Assistant's "device discovery": the
device, its origin and all its components in one payload) announces one Home Assistant device:

| component | platform | reads / writes |
|---|---|---|
| Posture, Current sitting bout, Sitting today, Battery | sensor | the wearer's retained state |
| Prolonged sitting | binary_sensor | on while the current sitting bout is `prolonged_s` or longer |
| Nudge | event | the wearer's nudge topic: event types `sitting` and `slouch`, for automations |
| Calibrate | button | a `calibrate` command on the wearer's command topic ("sit tall") |
| Do not disturb | switch | `dnd` on / off (optimistic: the gateway keeps no retained DND state) |
| Snooze nudges | number | `snooze` for that many minutes |
| Quiet hours | text | `quiet_hours` as `HH:MM-HH:MM[,HH:MM-HH:MM...]`, or `none` |

The commands are the ones `posture cmd` sends (`analytics.messages.encode_command`), rendered by
Home Assistant from the command templates below. Availability follows the gateway's retained
status (with its last will). The message is retained, so Home Assistant finds the device
whenever it starts; an empty retained payload removes it. The per-entity discovery topics of
earlier versions (`<prefix>/sensor/posture_<wearer>/<key>/config`) are cleared with empty
payloads, so no entity is announced twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Final

from analytics.contract import gateway_topic, wearer_topic
from analytics.records import Posture
from analytics.wire import check_id

NUDGE_REASONS: Final = ("sitting", "slouch")  # analytics.messages.Nudge.reason
LEGACY_SENSORS: Final = ("posture", "sitting_bout", "sitting_today", "battery")
_SPAN: Final = r"[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]"  # HH:MM-HH:MM
QUIET_HOURS_PATTERN: Final = (
    rf"^(none|{_SPAN}(,{_SPAN}){{0,7}})$"  # at most 8, as the gateway takes
)


@dataclass(frozen=True, slots=True)
class _Component:
    key: str
    platform: str
    name: str
    channel: str  # the wearer topic it reads ("state", "nudge") or writes ("cmd")
    config: dict[str, Any]


def _command(wearer_id: str, name: str, body: str = "") -> str:
    """A command template: the JSON of `encode_command`, with Jinja in `body` (Home Assistant
    renders it with the entity's `value`)."""
    head = f'"cmd":"{name}","type":"cmd","v":1,"wearer":"{wearer_id}"'
    return "{" + head + (f",{body}" if body else "") + "}"


def _components(wearer_id: str, prolonged_s: float) -> tuple[_Component, ...]:
    sitting_for = "(value_json.t - value_json.sitting_since)"
    quiet_hours = (  # "12:00-13:00,17:00-17:30" -> [["12:00", "13:00"], ["17:00", "17:30"]]
        "{%- set ns = namespace(spans=[]) -%}"
        "{%- for span in ([] if value | lower == 'none' else value.split(',')) -%}"
        "{%- set ns.spans = ns.spans + [span.split('-')] -%}"
        "{%- endfor -%}" + _command(wearer_id, "quiet_hours", '"spans":{{ ns.spans | tojson }}')
    )
    return (
        _Component(
            "posture",
            "sensor",
            "Posture",
            "state",
            {
                "value_template": "{{ value_json.posture }}",
                "device_class": "enum",
                "options": [p.value for p in Posture],
                "icon": "mdi:human-handsdown",
            },
        ),
        _Component(
            "sitting_bout",
            "sensor",
            "Current sitting bout",
            "state",
            {
                "value_template": f"{{{{ ({sitting_for} / 60) | round(0) "
                "if value_json.sitting_since is not none else 0 }}",
                "device_class": "duration",
                "unit_of_measurement": "min",
                "state_class": "measurement",
            },
        ),
        _Component(
            "sitting_today",
            "sensor",
            "Sitting today",
            "state",
            {
                "value_template": "{{ (value_json.sitting_today_s / 60) | round(0) }}",
                "device_class": "duration",
                "unit_of_measurement": "min",
                "state_class": "total_increasing",
            },
        ),
        _Component(
            "battery",
            "sensor",
            "Battery",
            "state",
            {
                # None, not a word: Home Assistant shows a numeric sensor as unknown only then
                "value_template": "{{ value_json.battery_pct "
                "if value_json.battery_pct is not none else None }}",
                "device_class": "battery",
                "unit_of_measurement": "%",
                "state_class": "measurement",
                "entity_category": "diagnostic",
            },
        ),
        _Component(
            "prolonged_sitting",
            "binary_sensor",
            "Prolonged sitting",
            "state",
            {
                "value_template": "{{ 'ON' if value_json.sitting_since is not none and "
                f"{sitting_for} >= {prolonged_s:g} else 'OFF' }}}}",
                "payload_on": "ON",
                "payload_off": "OFF",
                "icon": "mdi:seat-recline-normal",
            },
        ),
        _Component(
            "nudge",
            "event",
            "Nudge",
            "nudge",
            {
                "event_types": list(NUDGE_REASONS),
                "value_template": "{{ {'event_type': value_json.reason, "
                "'message': value_json.message, 'id': value_json.id} | tojson }}",
                "icon": "mdi:bell-ring",
            },
        ),
        _Component(
            "calibrate",
            "button",
            "Calibrate (sit tall)",
            "cmd",
            {"payload_press": _command(wearer_id, "calibrate"), "entity_category": "config"},
        ),
        _Component(
            "dnd",
            "switch",
            "Do not disturb",
            "cmd",
            {
                "payload_on": _command(wearer_id, "dnd", '"on":true'),
                "payload_off": _command(wearer_id, "dnd", '"on":false'),
                "optimistic": True,
                "icon": "mdi:bell-off",
            },
        ),
        _Component(
            "snooze",
            "number",
            "Snooze nudges",
            "cmd",
            {
                "command_template": _command(wearer_id, "snooze", '"minutes":{{ value }}'),
                "min": 5,
                "max": 240,
                "step": 5,
                "mode": "box",
                "unit_of_measurement": "min",
                "optimistic": True,
                "icon": "mdi:bell-sleep",
            },
        ),
        _Component(
            "quiet_hours",
            "text",
            "Quiet hours",
            "cmd",
            {
                "command_template": quiet_hours,
                "pattern": QUIET_HOURS_PATTERN,
                "min": 4,
                "max": 95,
                "entity_category": "config",
                "icon": "mdi:clock-outline",
            },
        ),
    )


def _version() -> str:
    try:
        return metadata.version("posture-monitor")
    except metadata.PackageNotFoundError:
        return "0"


def node_id(wearer_id: str) -> str:
    return f"posture_{wearer_id.replace('.', '_')}"


def discovery_messages(
    *,
    prefix: str,
    root: str,
    gateway_id: str,
    wearer_id: str,
    remove: bool = False,
    prolonged_s: float = 30 * 60.0,
) -> list[tuple[str, bytes]]:
    """(topic, retained payload) for one wearer's device, after clearing the per-entity topics
    of earlier versions; with `remove`, empty payloads that remove the device."""
    check_id(wearer_id, what="wearer id")
    node = node_id(wearer_id)
    messages = [(f"{prefix}/sensor/{node}/{key}/config", b"") for key in LEGACY_SENSORS]
    topic = f"{prefix}/device/{node}/config"
    if remove:
        return [*messages, (topic, b"")]
    components = {}
    for c in _components(wearer_id, prolonged_s):
        where = "command_topic" if c.channel == "cmd" else "state_topic"
        components[c.key] = {
            "platform": c.platform,
            "name": c.name,
            "unique_id": f"{node}_{c.key}",
            where: wearer_topic(root, wearer_id, c.channel),
            **c.config,
        }
    config = {
        "device": {
            "identifiers": [node],
            "name": f"Posture monitor {wearer_id}",
            "manufacturer": "posture-monitor",
            "model": "Wearable posture and sitting-time monitor",
            "sw_version": _version(),
        },
        "origin": {"name": "posture-monitor", "sw_version": _version()},
        "components": components,
        "availability": [
            {"topic": gateway_topic(root, gateway_id), "value_template": "{{ value_json.status }}"}
        ],
        "payload_available": "online",
        "payload_not_available": "offline",
        "qos": 1,
    }
    return [*messages, (topic, json.dumps(config, separators=(",", ":")).encode())]
