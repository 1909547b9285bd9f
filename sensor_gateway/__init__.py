"""The edge: BLE sensors in, the wearers' analytics at the edge, MQTT out (docs/architecture.md).

The names below are the package's front door; its modules stay importable on their own, and
nothing is imported before it is asked for (a command that only reads a trace does not load
bleak or paho).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "Gateway": "gateway",
    "SensorAssignment": "gateway",
    "SensorStream": "stream",
    "EdgeService": "service",
    "SensorKey": "service",
    "Analysis": "analysis",
    "MqttPublisher": "publisher",
    "Outbox": "outbox",
    "Radio": "radio",
    "TimeBase": "timebase",
    "PacedTimeBase": "timebase",
    "open_publisher": "runner",
    "open_radio": "runner",
    "build_gateway": "runner",
    "serve": "runner",
    "wearers_of": "runner",
    "read_trace": "traces",
    "write_trace": "traces",
    "TraceError": "traces",
    "simulate_day": "simulator",
    "get_profile": "profiles",
    "Nudge": "profiles",
    "Profile": "profiles",
    "VirtualRadio": "virtual",
    "VirtualSensor": "virtual",
    "GatewayConfig": "settings",
    "GatewaySettings": "settings",
    "HomeAssistantSettings": "settings",
    "WearerSettings": "settings",
}
__all__ = [
    "Analysis",
    "EdgeService",
    "Gateway",
    "GatewayConfig",
    "GatewaySettings",
    "HomeAssistantSettings",
    "MqttPublisher",
    "Nudge",
    "Outbox",
    "PacedTimeBase",
    "Profile",
    "Radio",
    "SensorAssignment",
    "SensorKey",
    "SensorStream",
    "TimeBase",
    "TraceError",
    "VirtualRadio",
    "VirtualSensor",
    "WearerSettings",
    "build_gateway",
    "get_profile",
    "open_publisher",
    "open_radio",
    "read_trace",
    "serve",
    "simulate_day",
    "wearers_of",
    "write_trace",
]

if TYPE_CHECKING:
    from .analysis import Analysis
    from .gateway import Gateway, SensorAssignment
    from .outbox import Outbox
    from .profiles import Nudge, Profile, get_profile
    from .publisher import MqttPublisher
    from .radio import Radio
    from .runner import build_gateway, open_publisher, open_radio, serve, wearers_of
    from .service import EdgeService, SensorKey
    from .settings import GatewayConfig, GatewaySettings, HomeAssistantSettings, WearerSettings
    from .simulator import simulate_day
    from .stream import SensorStream
    from .timebase import PacedTimeBase, TimeBase
    from .traces import TraceError, read_trace, write_trace
    from .virtual import VirtualRadio, VirtualSensor


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sensor_gateway' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
