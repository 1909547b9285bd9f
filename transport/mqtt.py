"""Creating and connecting paho-mqtt clients from the `[mqtt]` settings (credentials, TLS)."""

from __future__ import annotations

import logging
import random
import ssl
import threading
from typing import Any, cast

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from .settings import MqttSettings

log = logging.getLogger(__name__)


class BrokerError(Exception):
    """The MQTT broker cannot be reached or refused us."""


class BrokerRefused(BrokerError):
    """The MQTT broker answered and refused the connection (credentials, client id, ...)."""


def jitter_reconnects(client: paho.Client) -> None:
    """Let paho reconnect after 0.5-1.5 s, then doubling up to 30 s: a different delay for every
    client and every outage, so that clients cut off together (a broker restart) do not all
    come back at the same moment. Call it at creation and from `on_disconnect`."""
    first = random.uniform(0.5, 1.5)  # paho only adds and doubles it: a float works
    client.reconnect_delay_set(min_delay=cast(int, first), max_delay=30)


def make_client(
    settings: MqttSettings,
    client_id: str,
    *,
    manual_ack: bool = False,
    will: tuple[str, bytes] | None = None,
    client_class: type[paho.Client] = paho.Client,
) -> paho.Client:
    """An MQTT v5 client with credentials, TLS and (optionally) a retained last will.

    Raises `OSError` (or `ssl.SSLError`) if a configured CA, certificate or key file cannot be
    read; a password file that cannot be read is a `ConfigError`.
    """
    client = client_class(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=MQTTProtocolVersion.MQTTv5,
        manual_ack=manual_ack,
    )
    if settings.username is not None:
        client.username_pw_set(settings.username, settings.password_value())
    if settings.tls:
        context = ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
        if settings.cert_file is not None:
            context.load_cert_chain(
                str(settings.cert_file), str(settings.key_file) if settings.key_file else None
            )
        client.tls_set_context(context)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    jitter_reconnects(client)
    return client


def connect(
    client: paho.Client,
    settings: MqttSettings,
    *,
    session_expiry_s: int = 0,
    receive_maximum: int = 0,
) -> None:
    """Connect and start the network thread; returns once the broker accepted us.

    With `session_expiry_s` the session (subscriptions and queued QoS 1 messages) survives
    disconnects for that long. Raises `BrokerError` with a one-line reason.
    """
    where = f"{settings.host}:{settings.port}"
    accepted = threading.Event()
    outcome: list[str] = []
    previous: Any = client.on_connect

    def on_connect(
        c: paho.Client, userdata: object, flags: object, reason: ReasonCode, props: object
    ) -> None:
        if reason.is_failure:
            outcome.append(str(reason))
        accepted.set()
        if previous is not None:
            previous(c, userdata, flags, reason, props)

    client.on_connect = on_connect
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if session_expiry_s:
        properties.SessionExpiryInterval = session_expiry_s
    if receive_maximum:
        properties.ReceiveMaximum = receive_maximum
    try:
        client.connect(
            settings.host,
            settings.port,
            keepalive=settings.keepalive_s,
            clean_start=not session_expiry_s,
            properties=properties,
        )
    except (OSError, ssl.SSLError) as err:
        raise BrokerError(f"cannot reach MQTT broker at {where}: {err.strerror or err}") from None
    client.loop_start()
    if not accepted.wait(settings.connect_timeout_s):
        client.loop_stop()
        raise BrokerError(
            f"MQTT broker at {where} did not answer within {settings.connect_timeout_s:g} s"
        )
    client.on_connect = previous
    if outcome:
        client.loop_stop()
        raise BrokerRefused(f"MQTT broker at {where} refused the connection: {outcome[0]}")
    log.info("connected broker=%s", where)


def publish_once(
    settings: MqttSettings, topic: str, payload: bytes, *, retain: bool = False
) -> None:
    """Connect, publish one QoS 1 message, wait for the broker's acknowledgement, disconnect.

    Raises `BrokerError` if the broker cannot be reached or refuses the message.
    """
    client = make_client(settings, "")
    connect(client, settings)
    try:
        info = client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(settings.connect_timeout_s)
        if not info.is_published():
            raise BrokerError(f"the MQTT broker did not acknowledge the message to {topic}")
    finally:
        client.disconnect()
        client.loop_stop()
