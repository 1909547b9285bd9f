"""The dashboards side's configuration sections: InfluxDB and the recorder."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from analytics.wire import check_id
from transport.settings import Section, secret


class InfluxSettings(Section):
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
        return secret(self.token, self.token_file, "influx.token_file")

    def password_value(self) -> str | None:
        return secret(self.password, self.password_file, "influx.password_file")


class RecorderSettings(Section):
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
    # the faster paho client (dashboards/recorder/mqttclient.py: private paho names, checked)
    lean_client: bool = False

    @field_validator("share_group")
    @classmethod
    def _valid_group(cls, value: str) -> str:
        return check_id(value, what="share group") if value else value
