"""One typed settings object: a TOML file, overridden by `POSTURE_*` environment variables.

Nested keys use `__` in the environment: `POSTURE_MQTT__HOST=broker` sets `[mqtt] host`.
The entry point loads it once and passes sections down; nothing else reads configuration.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from analytics.contract import check_id
from analytics.params import LANGUAGES, AnalyticsParams
from analytics.records import Placement

ENV_PREFIX = "POSTURE_"


class ConfigError(Exception):
    """Configuration that cannot be used; the message is one line and names the bad key."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _secret(value: SecretStr | None, file: Path | None, what: str) -> str | None:
    """A secret from its value or from a file (first line), never logged."""
    if file is not None:
        try:
            lines = file.read_text().splitlines()
        except OSError as err:
            raise ConfigError(f"{what}: cannot read secret file {file}: {err.strerror}") from None
        return lines[0].strip() if lines else ""
    return value.get_secret_value() if value is not None else None


class MqttSettings(_Section):
    """The MQTT broker."""

    host: str = "localhost"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    tls: bool = False
    ca_file: Path | None = None  # CA bundle for the broker's certificate (system CAs if unset)
    cert_file: Path | None = None  # client certificate, when the broker asks for one
    key_file: Path | None = None
    topic_root: str = "posture/v1"
    keepalive_s: int = Field(30, ge=5, le=3600)
    connect_timeout_s: float = Field(10.0, gt=0)

    def password_value(self) -> str | None:
        return _secret(self.password, self.password_file, "mqtt.password_file")


class InfluxSettings(_Section):
    """The time-series database. `api = "v1"` for InfluxDB 1.x, "v2" for 2.x and 3.x."""

    url: str = "http://localhost:8086"
    api: Literal["v1", "v2"] = "v1"
    database: str = "posture"  # v1 database, or v2 bucket
    org: str = ""  # v2 only
    token: SecretStr | None = None  # v2 token (or v1 "user:password")
    token_file: Path | None = None
    username: str | None = None  # v1 only
    password: SecretStr | None = None
    password_file: Path | None = None
    timeout_s: float = Field(10.0, gt=0)
    retention: str = ""  # e.g. "365d"; empty keeps data forever

    def token_value(self) -> str | None:
        return _secret(self.token, self.token_file, "influx.token_file")

    def password_value(self) -> str | None:
        return _secret(self.password, self.password_file, "influx.password_file")


class RecorderSettings(_Section):
    """The MQTT -> InfluxDB recorder.

    Each running recorder needs its own `client_id` (its persistent session on the broker);
    recorders with the same `share_group` share one subscription (MQTT v5 `$share/...`).
    """

    client_id: str = "posture-recorder"
    batch_size: int = Field(1000, ge=1, le=50_000)
    flush_interval_s: float = Field(1.0, gt=0, le=60)
    session_expiry_s: int = Field(12 * 3600, ge=60)
    share_group: str = ""  # e.g. "recorders": scale out over several recorders
    health_interval_s: float = Field(60.0, gt=0)
    retry_max_s: float = Field(30.0, gt=0, le=600)  # longest wait between write retries
    # times further from now than this are refused (dead-lettered)
    max_age_days: float = Field(400.0, gt=0, le=36500)
    max_ahead_days: float = Field(1.0, gt=0, le=365)
    # how long a device report waits for its gateway's retained status (its wearers)
    announce_wait_s: float = Field(30.0, gt=0, le=3600)
    # the recorder's own broker user (else [mqtt]'s): `posture run` connects as gateway and as
    # recorder, and a broker that binds client ids to usernames needs a user for each
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    # the faster paho client (dashboards/mqttclient.py: private paho names, checked at start)
    lean_client: bool = False

    @field_validator("share_group")
    @classmethod
    def _valid_group(cls, value: str) -> str:
        return check_id(value, what="share group") if value else value


class SensorSettings(_Section):
    """One wearable sensor and whom and where it measures."""

    address: str  # BLE address or name
    profile: Literal["microbit", "thingy52", "witmotion", "polar_h10", "metamotion", "generic"]
    wearer: str
    placement: Placement = Placement.TRUNK

    @field_validator("wearer")
    @classmethod
    def _pseudonym(cls, value: str) -> str:
        return check_id(value, what="wearer id")


class GenericProfileSettings(_Section):
    """The `generic` profile: N x int16 or float32 x, y, z per notification (DIY firmware)."""

    service_uuid: str = "7e570001-6f73-7475-7265-2d6d6f6e0000"
    data_uuid: str = "7e570002-6f73-7475-7265-2d6d6f6e0000"
    sample_format: Literal["int16", "float32"] = "int16"
    counts_per_g: float = Field(1000.0, gt=0)
    rate_hz: float = Field(50.0, gt=0, le=1000)
    name_prefix: str = "posture-imu"
    haptic_uuid: str = "7e570003-6f73-7475-7265-2d6d6f6e0000"  # "" if the firmware has no motor


class GatewaySettings(_Section):
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


class BusyTopicSettings(_Section):
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


class DeskSettings(_Section):
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


class WearerSettings(_Section):
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


class PrivacySettings(_Section):
    """Data subjects' access and erasure (`posture subject`): where else wearer data live."""

    # directories of recorded traces: files named <wearer>.*, <wearer>_*, <wearer>-*, or any
    # file under a sub-directory named <wearer>, belong to that wearer
    trace_dirs: list[Path] = Field(default_factory=list)
    audit_log: Path = Path("posture-erasure-audit.log")  # one line per erasure, no personal data


class HomeAssistantSettings(_Section):
    """Home Assistant MQTT discovery of each wearer's posture, sitting time and battery."""

    enabled: bool = False
    prefix: str = "homeassistant"  # Home Assistant's discovery prefix

    @field_validator("prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", value):
            raise ValueError(f"discovery prefix {value!r} must be one topic level ([A-Za-z0-9_-])")
        return value


class HttpSettings(_Section):
    """The optional HTTP port of the gateway and the recorder: /healthz and /metrics."""

    port: int | None = Field(None, ge=1, le=65535)  # off unless set
    host: str = "127.0.0.1"
    # /healthz fails when a recorder has held a message, or a gateway's oldest unconfirmed
    # message has waited, longer than this
    stale_after_s: float = Field(600.0, gt=0)


class Settings(BaseSettings):
    """Everything configurable, by section."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    mqtt: MqttSettings = MqttSettings()
    influx: InfluxSettings = InfluxSettings()
    recorder: RecorderSettings = RecorderSettings()
    gateway: GatewaySettings = GatewaySettings()
    analytics: AnalyticsParams = AnalyticsParams()
    home_assistant: HomeAssistantSettings = HomeAssistantSettings()
    privacy: PrivacySettings = PrivacySettings()
    http: HttpSettings = HttpSettings()
    wearers: dict[str, WearerSettings] = Field(default_factory=dict)  # [wearers.<id>]

    @field_validator("wearers")
    @classmethod
    def _pseudonyms(cls, wearers: dict[str, WearerSettings]) -> dict[str, WearerSettings]:
        for wearer in wearers:
            check_id(wearer, what="wearer id")
        return wearers

    def recorder_mqtt(self) -> MqttSettings:
        """The `[mqtt]` settings with the recorder's own credentials, if it has any."""
        own = self.recorder
        if own.username is None:
            return self.mqtt
        return self.mqtt.model_copy(
            update={
                "username": own.username,
                "password": own.password,
                "password_file": own.password_file,
            }
        )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # the file's values arrive as init arguments; the environment overrides them
        return env_settings, init_settings


def _describe(err: ValidationError, file_values: dict[str, Any]) -> str:
    first = err.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    env_name = ENV_PREFIX + "__".join(str(part) for part in first["loc"]).upper()
    where = f" (from {env_name})" if env_name in os.environ else ""
    if not where and file_values:
        where = " (from the config file)"
    shown = "" if first["type"] in ("missing", "extra_forbidden") else f" = {first.get('input')!r}"
    if "password" in key or "token" in key:
        shown = ""
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"invalid configuration: {key}{shown}: {first['msg']}{where}{more}"


def load_settings(path: Path | None = None) -> Settings:
    """Settings from `path` (TOML; must exist if given) and the environment.

    Raises `ConfigError` with a one-line message naming the bad key.
    """
    values: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file not found: {path}")
        try:
            values = tomllib.loads(path.read_text())
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config file {path} is not valid TOML: {err}") from None
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read config file {path}: {err}") from None
    try:
        return Settings(**values)
    except ValidationError as err:
        raise ConfigError(_describe(err, values)) from None
