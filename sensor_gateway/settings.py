"""The gateway's configuration sections: its sensors, its wearers' own settings, Home Assistant.

`GatewayConfig` is what the gateway reads of the whole configuration (`posture.settings.Settings`
is one): the sections it needs, nothing else.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, Protocol

from pydantic import Field, field_validator, model_validator

from analytics.params import LANGUAGES, AnalyticsParams
from analytics.records import Placement
from analytics.wire import check_id
from transport.settings import MqttSettings, Section


class SensorSettings(Section):
    """One wearable sensor and whom and where it measures."""

    address: str  # BLE address or name
    profile: Literal["microbit", "thingy52", "witmotion", "polar_h10", "metamotion", "generic"]
    wearer: str
    placement: Placement = Placement.TRUNK

    @field_validator("wearer")
    @classmethod
    def _pseudonym(cls, value: str) -> str:
        return check_id(value, what="wearer id")


class GenericProfileSettings(Section):
    """The `generic` profile: N x int16 or float32 x, y, z per notification (DIY firmware)."""

    service_uuid: str = "7e570001-6f73-7475-7265-2d6d6f6e0000"
    data_uuid: str = "7e570002-6f73-7475-7265-2d6d6f6e0000"
    sample_format: Literal["int16", "float32"] = "int16"
    counts_per_g: float = Field(1000.0, gt=0)
    rate_hz: float = Field(50.0, gt=0, le=1000)
    name_prefix: str = "posture-imu"
    haptic_uuid: str = "7e570003-6f73-7475-7265-2d6d6f6e0000"  # "" if the firmware has no motor


class GatewaySettings(Section):
    """The BLE gateway."""

    id: str = "gw1"
    sensors: list[SensorSettings] = Field(default_factory=list)
    team: str = ""
    site: str = ""
    adapter: str = "hci0"  # the Bluetooth adapter (BlueZ name)
    watchdog_s: float = Field(5.0, gt=0)  # no notification for this long: reconnect
    backoff_cap_s: float = Field(60.0, gt=0)  # longest wait between reconnection attempts
    health_interval_s: float = Field(60.0, gt=0)  # device health reports
    state_dir: Path | None = None  # the outbox, wearers' calibrations and nudge timing
    outbox_max_mb: float = Field(1024.0, gt=0)  # beyond this, new messages are counted, not kept
    replay_after_s: float = Field(60.0, gt=0)  # unconfirmed this long: sent again (then doubling)
    analysis_queue: int = Field(5000, ge=10)  # sample batches waiting for the analytics at most
    generic: GenericProfileSettings = GenericProfileSettings()

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return check_id(value, what="gateway id")


def _topic(value: str) -> str:
    """One MQTT topic (to subscribe or publish to, so no wildcards); raises ValueError."""
    if not value or len(value.encode()) > 65535 or "\0" in value:
        raise ValueError("an MQTT topic is 1 to 65535 bytes, without NUL")
    if "+" in value or "#" in value:
        raise ValueError(f"topic {value!r} must name one topic, without + or # wildcards")
    return value


class BusyTopicSettings(Section):
    """A topic whose value says whether the wearer is busy, such as Home Assistant's
    mqtt_statestream of a calendar or a binary_sensor (`on`) or a Teams presence (`Busy`,
    `InACall`, `Presenting`, ...); any other value means not busy."""

    topic: str
    busy_values: list[str] = Field(default_factory=lambda: ["on"], min_length=1, max_length=32)

    @field_validator("topic")
    @classmethod
    def _valid_topic(cls, value: str) -> str:
        return _topic(value)

    @field_validator("busy_values")
    @classmethod
    def _short_values(cls, values: list[str]) -> list[str]:
        if not all(0 < len(v) <= 64 for v in values):
            raise ValueError("busy values are 1 to 64 characters each")
        return values


class DeskSettings(Section):
    """The wearer's sit-stand desk over MQTT (docs/nudges.md): its height, a second signal for
    sitting and standing; and (opt-in) a command topic, to which the gateway sends
    `stand_payload` or `sit_payload` when the wearer confirms with a `desk` command."""

    height_topic: str = ""  # where the desk's controller publishes its height
    height_key: str = ""  # its key in a JSON object ("a.b" nested); "" for a plain number
    height_scale: float = Field(1.0, gt=0)  # cm = value x scale + offset (0.1 for mm)
    height_offset_cm: float = Field(0.0, ge=-1000, le=1000)
    command_topic: str = ""  # opt-in: where the desk takes commands (an MQTT cover, number, ...)
    stand_payload: str = ""  # what raises it to standing height, e.g. "OPEN" or "110"
    sit_payload: str = ""  # what lowers it to sitting height, e.g. "CLOSE" or "72"
    command_expiry_s: float = Field(30.0, gt=0, le=3600)  # not delivered by then: never sent

    @field_validator("height_topic", "command_topic")
    @classmethod
    def _valid_topic(cls, value: str) -> str:
        return _topic(value) if value else value

    @model_validator(mode="after")
    def _complete(self) -> DeskSettings:
        if not (self.height_topic or self.command_topic):
            raise ValueError("a desk needs a height_topic, a command_topic or both")
        if self.command_topic and not (self.stand_payload or self.sit_payload):
            raise ValueError("a desk command_topic needs a stand_payload or a sit_payload")
        if not self.command_topic and (self.stand_payload or self.sit_payload):
            raise ValueError("desk payloads without a command_topic: where should they go?")
        return self

    def payload(self, position: str) -> str:
        """What to send for `position` ("stand" or "sit"); "" if the desk cannot be sent there."""
        if not self.command_topic:
            return ""
        return {"stand": self.stand_payload, "sit": self.sit_payload}.get(position, "")


class WearerSettings(Section):
    """One wearer's own settings (`[wearers.<id>]`), used by the gateway that serves them."""

    language: str | None = None  # of the wearer's nudges; unset: [analytics.nudges] language
    busy: list[BusyTopicSettings] = Field(default_factory=list, max_length=16)
    desk: DeskSettings | None = None

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is not None and value not in LANGUAGES:
            raise ValueError(f"language must be one of {', '.join(LANGUAGES)}, got {value!r}")
        return value

    def params(self, base: AnalyticsParams) -> AnalyticsParams:
        """The analytics' parameters for this wearer: `base` with the wearer's own settings."""
        if self.language is None:
            return base
        nudges = dataclasses.replace(base.nudges, language=self.language)
        return dataclasses.replace(base, nudges=nudges)


class HomeAssistantSettings(Section):
    """Home Assistant MQTT discovery of each wearer's posture, sitting time and battery."""

    enabled: bool = False
    prefix: str = "homeassistant"  # Home Assistant's discovery prefix

    @field_validator("prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError(f"discovery prefix {value!r} must be one topic level ([A-Za-z0-9_-])")
        return value


class GatewayConfig(Protocol):
    """What the gateway reads of the whole configuration."""

    @property
    def mqtt(self) -> MqttSettings: ...

    @property
    def gateway(self) -> GatewaySettings: ...

    @property
    def analytics(self) -> AnalyticsParams: ...

    @property
    def home_assistant(self) -> HomeAssistantSettings: ...

    @property
    def wearers(self) -> Mapping[str, WearerSettings]: ...
