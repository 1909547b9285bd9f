"""Home Assistant on the shipped broker: the gateway may announce its wearers' device, Home
Assistant (its broker user) finds it, and its controls' commands reach the gateway."""

from __future__ import annotations

import json

import pytest

from analytics.messages import Command, decode_command
from sensor_gateway.homeassistant import discovery_messages
from tests.integration.recording import wait_until, watching
from tests.shipped_broker import ROOT, ShippedBroker, refusals
from transport.mqtt import publish_once

pytestmark = pytest.mark.integration


def test_home_assistant_finds_the_device_and_its_controls_reach_the_gateway(
    shipped: ShippedBroker,
) -> None:
    announce = discovery_messages(
        prefix="homeassistant", root=ROOT, gateway_id="gw1", wearer_id="w042"
    )
    assert refusals(shipped.settings("gw1"), announce) == []  # the ACL lets gw1 announce w042
    for topic, payload in announce:  # as the gateway does: retained
        publish_once(shipped.settings("gw1"), topic, payload, retain=True)
    foreign = discovery_messages(
        prefix="homeassistant", root=ROOT, gateway_id="gw1", wearer_id="w043"
    )
    assert set(refusals(shipped.settings("gw1"), foreign)) == {"Not authorized"}  # gw2's wearer
    with watching(shipped.settings("homeassistant"), "homeassistant/device/#") as ha:
        wait_until(lambda: bool(ha.messages), timeout_s=5, what="the retained device config")
    ((topic, payload),) = ha.messages
    assert topic == "homeassistant/device/posture_w042/config"
    controls = json.loads(payload)["components"]
    presses = [
        (controls["calibrate"]["command_topic"], controls["calibrate"]["payload_press"].encode()),
        (controls["dnd"]["command_topic"], controls["dnd"]["payload_on"].encode()),
    ]
    with watching(shipped.settings("gw1"), f"{ROOT}/w042/cmd") as gateway:
        assert refusals(shipped.settings("homeassistant"), presses) == []
        wait_until(lambda: len(gateway.messages) >= 2, timeout_s=5, what="the commands")
    assert [decode_command(p) for _, p in gateway.messages] == [
        Command("w042", "calibrate"),
        Command("w042", "dnd", on=True),
    ]
    removed = discovery_messages(
        prefix="homeassistant", root=ROOT, gateway_id="gw1", wearer_id="w042", remove=True
    )
    for topic, payload in removed:
        publish_once(shipped.settings("gw1"), topic, payload, retain=True)
