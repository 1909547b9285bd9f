"""Home Assistant MQTT discovery for each wearer (optional, off by default).

Per wearer, one Home Assistant device with four sensors read from the wearer's retained state
topic: posture, current sitting minutes, today's sitting time and battery; availability follows
the gateway's retained status (with its last will). The discovery messages are retained, so Home
Assistant finds the entities whenever it starts; an empty retained payload removes one.
Topic format: `<discovery_prefix>/sensor/<node_id>/<object_id>/config` (Home Assistant docs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from analytics.contract import check_id, gateway_topic, wearer_topic
from analytics.records import Posture


@dataclass(frozen=True, slots=True)
class _Entity:
    key: str
    name: str
    template: str
    extra: dict[str, Any]


_ENTITIES = (
    _Entity(
        "posture",
        "Posture",
        "{{ value_json.posture }}",
        {
            "device_class": "enum",
            "options": [p.value for p in Posture],
            "icon": "mdi:human-handsdown",
        },
    ),
    _Entity(
        "sitting_bout",
        "Current sitting bout",
        "{{ ((value_json.t - value_json.sitting_since) / 60) | round(0) "
        "if value_json.sitting_since is not none else 0 }}",
        {"device_class": "duration", "unit_of_measurement": "min", "state_class": "measurement"},
    ),
    _Entity(
        "sitting_today",
        "Sitting today",
        "{{ (value_json.sitting_today_s / 60) | round(0) }}",
        {
            "device_class": "duration",
            "unit_of_measurement": "min",
            "state_class": "total_increasing",
        },
    ),
    _Entity(
        "battery",
        "Battery",
        "{{ value_json.battery_pct if value_json.battery_pct is not none else 'unknown' }}",
        {
            "device_class": "battery",
            "unit_of_measurement": "%",
            "state_class": "measurement",
            "entity_category": "diagnostic",
        },
    ),
)


def _version() -> str:
    try:
        return metadata.version("posture-monitor")
    except metadata.PackageNotFoundError:
        return "0"


def discovery_messages(
    *, prefix: str, root: str, gateway_id: str, wearer_id: str, remove: bool = False
) -> list[tuple[str, bytes]]:
    """(topic, retained payload) for every entity of one wearer; empty payloads with `remove`."""
    check_id(wearer_id, what="wearer id")
    node = f"posture_{wearer_id.replace('.', '_')}"
    messages = []
    for entity in _ENTITIES:
        topic = f"{prefix}/sensor/{node}/{entity.key}/config"
        if remove:
            messages.append((topic, b""))
            continue
        config = {
            "name": entity.name,
            "unique_id": f"{node}_{entity.key}",
            "state_topic": wearer_topic(root, wearer_id, "state"),
            "value_template": entity.template,
            "qos": 1,
            "availability": [
                {
                    "topic": gateway_topic(root, gateway_id),
                    "value_template": "{{ value_json.status }}",
                }
            ],
            "payload_available": "online",
            "payload_not_available": "offline",
            "device": {
                "identifiers": [node],
                "name": f"Posture monitor {wearer_id}",
                "manufacturer": "posture-monitor",
                "model": "Wearable posture and sitting-time monitor",
                "sw_version": _version(),
            },
            "origin": {"name": "posture-monitor", "sw_version": _version()},
            **entity.extra,
        }
        messages.append((topic, json.dumps(config, separators=(",", ":")).encode()))
    return messages
