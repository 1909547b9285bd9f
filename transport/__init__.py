"""The transport both shells share, below them and above the analytics: connecting to the MQTT
broker (credentials, TLS, a last will, jittered reconnects), its errors, retry backoff, and the
configuration every section builds on.

    analytics  <-  transport  <-  {sensor_gateway, dashboards}  <-  posture (the command line)
"""

from .backoff import backoff_s
from .mqtt import BrokerError, BrokerRefused, connect, jitter_reconnects, make_client, publish_once
from .settings import ConfigError, MqttSettings, Section, secret

__all__ = [
    "BrokerError",
    "BrokerRefused",
    "ConfigError",
    "MqttSettings",
    "Section",
    "backoff_s",
    "connect",
    "jitter_reconnects",
    "make_client",
    "publish_once",
    "secret",
]
