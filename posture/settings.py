"""One typed settings object: a TOML file, overridden by `POSTURE_*` environment variables.

Nested keys use `__` in the environment: `POSTURE_MQTT__HOST=broker` sets `[mqtt] host`.
The entry point loads it once and passes sections down; nothing else reads configuration.
This module only composes: each section lives with what it configures (`transport.settings`,
`sensor_gateway.settings`, `dashboards.settings`, `analytics.params`), except the command
line's own (privacy, the HTTP port).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from analytics.params import AnalyticsParams
from analytics.wire import check_id
from dashboards.settings import InfluxSettings, RecorderSettings
from sensor_gateway.settings import GatewaySettings, HomeAssistantSettings, WearerSettings
from transport.settings import ConfigError, MqttSettings, Section

__all__ = ["ConfigError", "Settings", "load_settings"]

ENV_PREFIX = "POSTURE_"


class PrivacySettings(Section):
    """Data subjects' access and erasure (`posture subject`): where else wearer data live."""

    # directories of recorded traces: files named <wearer>.*, <wearer>_*, <wearer>-*, or any
    # file under a sub-directory named <wearer>, belong to that wearer
    trace_dirs: list[Path] = Field(default_factory=list)
    audit_log: Path = Path("posture-erasure-audit.log")  # one line per erasure, no personal data


class HttpSettings(Section):
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
