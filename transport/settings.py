"""The configuration every component shares: the base of all sections, secrets, the broker.

Each shell owns its own sections (`sensor_gateway.settings`, `dashboards.settings`);
`posture.settings` composes them into the one settings object the command line reads.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ConfigError(Exception):
    """Configuration that cannot be used; the message is one line and names the bad key."""


class Section(BaseModel):
    """A section of the configuration: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def secret(value: SecretStr | None, file: Path | None, what: str) -> str | None:
    """A secret from its value or from a file (first line), never logged."""
    if file is not None:
        try:
            lines = file.read_text().splitlines()
        except OSError as err:
            raise ConfigError(f"{what}: cannot read secret file {file}: {err.strerror}") from None
        return lines[0].strip() if lines else ""
    return value.get_secret_value() if value is not None else None


class MqttSettings(Section):
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
        return secret(self.password, self.password_file, "mqtt.password_file")
