"""Home Assistant MQTT discovery payloads against Home Assistant's documented schema.

The rules below are transcribed from the Home Assistant documentation: "MQTT discovery"
(https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery: topic format, device
discovery with its `device`, `origin` and `components`, shared options), the configuration
variables of each platform used ("MQTT Sensor" sensor.mqtt, "MQTT Binary sensor"
binary_sensor.mqtt, "MQTT Button" button.mqtt, "MQTT Switch" switch.mqtt, "MQTT Number"
number.mqtt, "MQTT Text" text.mqtt, "MQTT Event" event.mqtt) and the sensor device classes and
their units (https://www.home-assistant.io/integrations/sensor/#device-class). Templates are
rendered with Jinja2's immutable sandbox, the engine and sandbox Home Assistant renders them in,
against real state and nudge payloads, and the commands they render are decoded by the gateway's
own decoder.
"""

from __future__ import annotations

import json
import re

import jinja2
import jinja2.sandbox
import pytest

from analytics.contract import encode_state
from analytics.messages import Command, decode_command, encode_nudge
from analytics.records import Event, EventKind, Posture, WearerState
from sensor_gateway.homeassistant import discovery_messages

COMMON_KEYS = {
    "availability", "availability_mode", "availability_template", "availability_topic",
    "default_entity_id", "device", "enabled_by_default", "encoding", "entity_category",
    "entity_picture", "icon", "json_attributes_template", "json_attributes_topic", "name",
    "object_id", "origin", "payload_available", "payload_not_available", "platform", "qos",
    "unique_id",
}  # fmt: skip
PLATFORM_KEYS = {
    "sensor": {
        "device_class", "expire_after", "force_update", "last_reset_value_template", "options",
        "state_class", "state_topic", "suggested_display_precision", "unit_of_measurement",
        "value_template",
    },
    "binary_sensor": {
        "device_class", "expire_after", "force_update", "off_delay", "payload_off",
        "payload_on", "state_topic", "value_template",
    },
    "button": {"command_template", "command_topic", "device_class", "payload_press", "retain"},
    "switch": {
        "command_template", "command_topic", "device_class", "optimistic", "payload_off",
        "payload_on", "retain", "state_off", "state_on", "state_topic", "value_template",
    },
    "number": {
        "command_template", "command_topic", "device_class", "max", "min", "mode", "optimistic",
        "payload_reset", "retain", "state_topic", "step", "unit_of_measurement",
        "value_template",
    },
    "text": {
        "command_template", "command_topic", "max", "min", "mode", "pattern", "retain",
        "state_topic", "value_template",
    },
    "event": {"device_class", "event_types", "state_topic", "value_template"},
}  # fmt: skip
REQUIRED = {
    "sensor": {"state_topic"},
    "binary_sensor": {"state_topic"},
    "button": {"command_topic"},
    "switch": {"command_topic"},
    "number": {"command_topic"},
    "text": {"command_topic"},
    "event": {"state_topic", "event_types"},
}
# options a device discovery message may give once for all its components
SHARED_KEYS = {
    "availability", "availability_mode", "availability_template", "availability_topic",
    "command_topic", "encoding", "payload_available", "payload_not_available", "qos",
    "state_topic",
}  # fmt: skip
DEVICE_KEYS = {
    "configuration_url", "connections", "hw_version", "identifiers", "manufacturer", "model",
    "model_id", "name", "serial_number", "suggested_area", "sw_version", "via_device",
}  # fmt: skip
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
UNITS = {"duration": {"d", "h", "min", "s", "ms"}, "battery": {"%"}}
STATE_CLASSES = {"measurement", "measurement_angle", "total", "total_increasing"}
DEVICE_CLASSES = {
    "binary_sensor": {"problem", "occupancy", "running", None},
    "button": {"identify", "restart", "update", None},
    "switch": {"outlet", "switch", None},
    "event": {"button", "doorbell", "motion", None},
}
DEVICE_TOPIC = re.compile(r"[^/#+]+/device/[a-zA-Z0-9_-]+/config")
TOPIC = re.compile(r"[^/#+]+/sensor/(?:[a-zA-Z0-9_-]+/)?[a-zA-Z0-9_-]+/config")


def check_device_config(topic: str, config: dict[str, object]) -> None:
    """Raise AssertionError where a device discovery message breaks the documented schema."""
    assert DEVICE_TOPIC.fullmatch(topic), topic
    assert {"device", "origin", "components"} <= set(config), "device, origin and components"
    assert set(config) <= {"device", "origin", "components"} | SHARED_KEYS, set(config)
    device = config["device"]
    assert isinstance(device, dict)
    assert set(device) <= DEVICE_KEYS
    assert device.get("identifiers") or device.get("connections"), "a device needs identifiers"
    origin = config["origin"]
    assert isinstance(origin, dict)
    assert set(origin) <= ORIGIN_KEYS
    assert "name" in origin
    assert config.get("qos", 0) in (0, 1, 2)
    _check_availability(config)
    components = config["components"]
    assert isinstance(components, dict)
    assert components, "a device has components"
    shared = {k: v for k, v in config.items() if k in SHARED_KEYS}
    for key, component in components.items():
        assert re.fullmatch(r"[a-zA-Z0-9_-]+", key), key
        check_component(shared | component)


def _check_availability(config: dict[str, object]) -> None:
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


def check_component(config: dict[str, object]) -> None:
    """Raise AssertionError where one component breaks its platform's documented schema."""
    platform = config.get("platform")
    assert platform in PLATFORM_KEYS, platform
    assert set(config) <= COMMON_KEYS | PLATFORM_KEYS[platform], (
        set(config) - COMMON_KEYS - (PLATFORM_KEYS[platform])
    )
    assert REQUIRED[platform] <= set(config), f"{platform} needs {REQUIRED[platform]}"
    assert isinstance(config.get("unique_id"), str)
    assert config.get("entity_category", "diagnostic") in ("config", "diagnostic")
    _check_availability(config)
    if platform == "sensor":
        _check_sensor(config)
    elif platform in DEVICE_CLASSES:
        assert config.get("device_class") in DEVICE_CLASSES[platform]
    if platform == "number":
        assert config.get("mode", "auto") in ("auto", "box", "slider")
        assert float(config["min"]) < float(config["max"])  # type: ignore[arg-type]
    if platform == "text":
        assert config.get("mode", "text") in ("text", "password")
        assert 0 <= int(config.get("min", 0)) <= int(config.get("max", 255)) <= 255  # type: ignore[call-overload]
        re.compile(str(config.get("pattern", "")))
    if platform == "event":
        assert isinstance(config["event_types"], list)
        assert config["event_types"]


def _check_sensor(config: dict[str, object]) -> None:
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


ROOT = "posture/v1"


def announce(**changes: object) -> list[tuple[str, bytes]]:
    kwargs: dict[str, object] = {
        "prefix": "homeassistant",
        "root": ROOT,
        "gateway_id": "gw1",
        "wearer_id": "w042",
    }
    return discovery_messages(**(kwargs | changes))  # type: ignore[arg-type]


@pytest.fixture
def device() -> tuple[str, dict[str, object]]:
    topic, payload = announce()[-1]
    return topic, json.loads(payload)


@pytest.fixture
def components(device: tuple[str, dict[str, object]]) -> dict[str, dict[str, object]]:
    return device[1]["components"]  # type: ignore[return-value]


def test_the_device_message_follows_the_documented_schema(
    device: tuple[str, dict[str, object]],
) -> None:
    check_device_config(*device)
    assert device[0] == "homeassistant/device/posture_w042/config"


def test_the_device_has_sensors_controls_and_the_nudge_event(
    components: dict[str, dict[str, object]],
) -> None:
    platforms = {key: c["platform"] for key, c in components.items()}
    assert platforms == {
        "posture": "sensor",
        "sitting_bout": "sensor",
        "sitting_today": "sensor",
        "battery": "sensor",
        "prolonged_sitting": "binary_sensor",
        "nudge": "event",
        "calibrate": "button",
        "dnd": "switch",
        "snooze": "number",
        "quiet_hours": "text",
    }
    unique_ids = [c["unique_id"] for c in components.values()]
    assert len(set(unique_ids)) == len(unique_ids)
    for c in components.values():  # controls write the command topic, the rest read
        topic = c.get("command_topic") or c["state_topic"]
        channel = (
            "cmd" if "command_topic" in c else ("nudge" if c["platform"] == "event" else "state")
        )
        assert topic == f"{ROOT}/w042/{channel}"


@pytest.mark.parametrize(
    ("key", "change"),
    [
        ("posture", {"unit_of_measurement": "minutes"}),
        ("sitting_bout", {"unit_of_measurement": "minutes"}),
        ("sitting_today", {"state_class": "sometimes"}),
        ("battery", {"colour": "red"}),
        ("prolonged_sitting", {"device_class": "sofa"}),
        ("calibrate", {"command_topic": None}),
        ("dnd", {"state_on": "x", "platform": "light"}),
        ("snooze", {"mode": "dial"}),
        ("quiet_hours", {"max": 1000}),
        ("nudge", {"event_types": []}),
    ],
)
def test_the_checker_rejects_what_home_assistant_would_reject(
    device: tuple[str, dict[str, object]], key: str, change: dict[str, object]
) -> None:
    topic, config = device
    broken = json.loads(json.dumps(config))
    component = broken["components"][key]
    for name, value in change.items():
        if value is None:
            component.pop(name)
        else:
            component[name] = value
    with pytest.raises(AssertionError):
        check_device_config(topic, broken)
    with pytest.raises(AssertionError):
        check_device_config("homeassistant/device/bad id/config", config)
    with pytest.raises(AssertionError):
        check_device_config(topic, {k: v for k, v in config.items() if k != "origin"})


def _render(template: str, **values: object) -> str:
    """A template rendered as Home Assistant renders it: Jinja2's immutable sandbox."""
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined)
    env.tests["none"] = lambda v: v is None
    return env.from_string(template).render(**values).strip()


def _state(state: bytes) -> dict[str, object]:
    return {"value_json": json.loads(state)}


SITTING = WearerState(
    "w042",
    t_s=10_000.0,
    posture=Posture.SITTING,
    posture_since_s=8_000.0,
    sitting_since_s=8_200.0,
    calibrated=True,
)
STANDING = WearerState(
    "w042",
    t_s=10_000.0,
    posture=Posture.STANDING,
    posture_since_s=9_900.0,
    sitting_since_s=None,
    calibrated=True,
)


def test_sensor_templates_render_the_state_payload(
    components: dict[str, dict[str, object]],
) -> None:
    def value(key: str, payload: bytes) -> str:
        return _render(str(components[key]["value_template"]), **_state(payload))

    payload = encode_state(SITTING, sitting_today_s=7_260.0, battery_pct=81)
    assert value("posture", payload) == "sitting"
    assert float(value("sitting_bout", payload)) == 30.0
    assert float(value("sitting_today", payload)) == 121.0
    assert value("battery", payload) == "81"
    idle = encode_state(STANDING, sitting_today_s=0.0, battery_pct=None)
    assert float(value("sitting_bout", idle)) == 0.0
    # None, which Home Assistant shows as unknown; a word such as 'unknown' it rejects for a
    # numeric sensor
    assert value("battery", idle) == "None"


@pytest.mark.parametrize(
    ("state", "prolonged_s", "expected"),
    [(SITTING, 1800, "ON"), (SITTING, 1801, "OFF"), (STANDING, 1800, "OFF")],
)
def test_prolonged_sitting_is_on_from_the_prolonged_threshold(
    state: WearerState, prolonged_s: float, expected: str
) -> None:
    (component,) = [
        c
        for c in json.loads(announce(prolonged_s=prolonged_s)[-1][1])["components"].values()
        if c["platform"] == "binary_sensor"
    ]
    payload = encode_state(state, sitting_today_s=0.0, battery_pct=None)
    assert _render(component["value_template"], **_state(payload)) == expected
    assert expected in (component["payload_on"], component["payload_off"])


@pytest.mark.parametrize("reason", ["sitting", "slouch"])
def test_a_nudge_becomes_an_event_of_its_reason(
    components: dict[str, dict[str, object]], reason: str
) -> None:
    nudge = Event(
        "w042",
        EventKind.NUDGE,
        start_s=5_000.0,
        end_s=5_000.0,
        values={"reason": reason},
    )
    event = json.loads(
        _render(str(components["nudge"]["value_template"]), **_state(encode_nudge(nudge)))
    )
    assert event["event_type"] == reason
    assert event["event_type"] in components["nudge"]["event_types"]  # type: ignore[operator]
    assert event["message"]


def test_the_controls_send_commands_the_gateway_decodes(
    components: dict[str, dict[str, object]],
) -> None:
    def command(payload: str) -> Command:
        return decode_command(payload.encode())

    assert command(str(components["calibrate"]["payload_press"])) == Command("w042", "calibrate")
    dnd = components["dnd"]
    assert command(str(dnd["payload_on"])) == Command("w042", "dnd", on=True)
    assert command(str(dnd["payload_off"])) == Command("w042", "dnd", on=False)
    snooze = str(components["snooze"]["command_template"])
    assert command(_render(snooze, value=30)) == Command("w042", "snooze", minutes=30.0)
    quiet = components["quiet_hours"]
    pattern = re.compile(str(quiet["pattern"]))
    for text, spans in [
        ("12:00-13:00", (("12:00", "13:00"),)),
        ("12:00-13:00,17:00-17:30", (("12:00", "13:00"), ("17:00", "17:30"))),
        ("none", ()),
    ]:
        assert pattern.fullmatch(text)
        rendered = _render(str(quiet["command_template"]), value=text)
        assert command(rendered) == Command("w042", "quiet_hours", spans=spans)
    for bad in ("12-13", "12:00 - 13:00", "", "12:00-13:00,"):
        assert not pattern.fullmatch(bad), bad


def test_earlier_per_entity_topics_are_cleared() -> None:
    messages = announce()
    cleared = [t for t, p in messages if p == b""]
    assert cleared == [
        f"homeassistant/sensor/posture_w042/{key}/config"
        for key in ("posture", "sitting_bout", "sitting_today", "battery")
    ]
    assert all(TOPIC.fullmatch(t) for t in cleared)


def test_removal_publishes_empty_payloads_on_the_same_topics() -> None:
    added = [t for t, _ in announce()]
    removed = announce(remove=True)
    assert [t for t, _ in removed] == added
    assert all(p == b"" for _, p in removed)
