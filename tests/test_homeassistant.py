"""Home Assistant MQTT discovery payloads against Home Assistant's documented schema.

The rules below are transcribed from the Home Assistant documentation: "MQTT Sensor"
(https://www.home-assistant.io/integrations/sensor.mqtt/, configuration variables), "MQTT
discovery" (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery, topic format and
the origin/device blocks) and the sensor device classes and their units
(https://www.home-assistant.io/integrations/sensor/#device-class). Value templates are rendered
with Jinja2, the engine Home Assistant templates use, against real state payloads.
"""

from __future__ import annotations

import json
import re

import jinja2
import pytest

from analytics.contract import encode_state
from analytics.records import Posture, WearerState
from sensor_gateway.homeassistant import discovery_messages

SENSOR_KEYS = {
    "availability", "availability_mode", "availability_template", "availability_topic",
    "default_entity_id", "device", "device_class", "enabled_by_default", "encoding",
    "entity_category", "entity_picture", "expire_after", "force_update", "icon",
    "json_attributes_template", "json_attributes_topic", "last_reset_value_template", "name",
    "object_id", "options", "origin", "payload_available", "payload_not_available", "platform",
    "qos", "state_class", "state_topic", "suggested_display_precision", "unique_id",
    "unit_of_measurement", "value_template",
}  # fmt: skip
DEVICE_KEYS = {
    "configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model",
    "model_id", "name", "serial_number", "suggested_area", "sw_version", "via_device",
}  # fmt: skip
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
UNITS = {"duration": {"d", "h", "min", "s", "ms"}, "battery": {"%"}}
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
TOPIC = re.compile(r"[^/#+]+/sensor/(?:[a-zA-Z0-9_-]+/)?[a-zA-Z0-9_-]+/config")


def check_sensor_config(topic: str, config: dict[str, object]) -> None:
    """Raise AssertionError where `config` breaks the documented MQTT sensor schema."""
    assert TOPIC.fullmatch(topic), topic
    assert set(config) <= SENSOR_KEYS, set(config) - SENSOR_KEYS
    assert isinstance(config.get("state_topic"), str), "state_topic is required"
    assert not ({"availability", "availability_topic"} <= set(config)), (
        "not both availability forms"
    )
    for item in config.get("availability", []):  # type: ignore[attr-defined]
        assert set(item) <= {
            "topic",
            "payload_available",
            "payload_not_available",
            "value_template",
        }
        assert isinstance(item["topic"], str)
    device = config.get("device")
    assert isinstance(device, dict)
    assert set(device) <= DEVICE_KEYS
    assert device.get("identifiers") or device.get("connections"), "a device needs identifiers"
    assert set(config.get("origin", {})) <= ORIGIN_KEYS  # type: ignore[arg-type]
    assert "name" in config.get("origin", {"name": ""})  # type: ignore[operator]
    assert config.get("qos", 0) in (0, 1, 2)
    assert config.get("entity_category", "diagnostic") in ("config", "diagnostic")
    device_class = config.get("device_class")
    if device_class == "enum":
        assert isinstance(config.get("options"), list), "enum needs options"
        assert config["options"], "enum needs options"
        assert "unit_of_measurement" not in config
        assert "state_class" not in config
    elif device_class is not None:
        assert device_class in UNITS, device_class
        assert config.get("unit_of_measurement") in UNITS[device_class]  # type: ignore[operator]
    if "state_class" in config:
        assert config["state_class"] in STATE_CLASSES


@pytest.fixture
def messages() -> list[tuple[str, dict[str, object]]]:
    raw = discovery_messages(
        prefix="homeassistant", root="posture/v1", gateway_id="gw1", wearer_id="w042"
    )
    return [(topic, json.loads(payload)) for topic, payload in raw]


def test_every_discovery_payload_follows_the_documented_schema(
    messages: list[tuple[str, dict[str, object]]],
) -> None:
    assert len(messages) == 4
    for topic, config in messages:
        check_sensor_config(topic, config)
    unique_ids = [c["unique_id"] for _, c in messages]
    assert len(set(unique_ids)) == len(unique_ids)


def test_the_checker_rejects_what_home_assistant_would_reject(
    messages: list[tuple[str, dict[str, object]]],
) -> None:
    topic, good = messages[1]
    for broken in (
        {k: v for k, v in good.items() if k != "state_topic"},
        good | {"unit_of_measurement": "minutes"},
        good | {"state_class": "sometimes"},
        good | {"availability_topic": "x"},
        good | {"colour": "red"},
    ):
        with pytest.raises(AssertionError):
            check_sensor_config(topic, broken)
    with pytest.raises(AssertionError):
        check_sensor_config("homeassistant/sensor/bad id/x/config", good)


def _render(template: str, payload: bytes) -> str:
    env = jinja2.Environment(autoescape=False, undefined=jinja2.StrictUndefined)
    env.tests["none"] = lambda v: v is None
    return env.from_string(template).render(value_json=json.loads(payload)).strip()


def test_value_templates_render_the_state_payload(
    messages: list[tuple[str, dict[str, object]]],
) -> None:
    sitting = WearerState(
        "w042",
        t_s=10_000.0,
        posture=Posture.SITTING,
        posture_since_s=8_000.0,
        sitting_since_s=8_200.0,
        calibrated=True,
    )
    standing = WearerState(
        "w042",
        t_s=10_000.0,
        posture=Posture.STANDING,
        posture_since_s=9_900.0,
        sitting_since_s=None,
        calibrated=True,
    )
    templates = {c["unique_id"]: str(c["value_template"]) for _, c in messages}
    payload = encode_state(sitting, sitting_today_s=7_260.0, battery_pct=81)
    assert _render(templates["posture_w042_posture"], payload) == "sitting"
    assert float(_render(templates["posture_w042_sitting_bout"], payload)) == 30.0
    assert float(_render(templates["posture_w042_sitting_today"], payload)) == 121.0
    assert _render(templates["posture_w042_battery"], payload) == "81"
    idle = encode_state(standing, sitting_today_s=0.0, battery_pct=None)
    assert float(_render(templates["posture_w042_sitting_bout"], idle)) == 0.0
    assert _render(templates["posture_w042_battery"], idle) == "unknown"


def test_removal_publishes_empty_payloads_on_the_same_topics() -> None:
    kwargs = {
        "prefix": "homeassistant",
        "root": "posture/v1",
        "gateway_id": "gw1",
        "wearer_id": "w042",
    }
    added = [t for t, _ in discovery_messages(**kwargs)]
    removed = discovery_messages(**kwargs, remove=True)
    assert [t for t, _ in removed] == added
    assert all(p == b"" for _, p in removed)
