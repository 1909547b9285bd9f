"""The edge: BLE sensors in, the wearers' analytics at the edge, MQTT out (docs/architecture.md).

The names below are the package's front door; its modules stay importable on their own, and
nothing is imported before it is asked for (a command that only reads a trace does not load
bleak or paho).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transport.lazy import front_door

_EXPORTS = {
    "Gateway": ("gateway", "Gateway"),
    "SensorAssignment": ("gateway", "SensorAssignment"),
    "SensorStream": ("stream", "SensorStream"),
    "EdgeService": ("service", "EdgeService"),
    "SensorKey": ("service", "SensorKey"),
    "Analysis": ("analysis", "Analysis"),
    "MqttPublisher": ("publisher", "MqttPublisher"),
    "Outbox": ("outbox", "Outbox"),
    "Radio": ("radio", "Radio"),
    "TimeBase": ("timebase", "TimeBase"),
    "PacedTimeBase": ("timebase", "PacedTimeBase"),
    "open_publisher": ("runner", "open_publisher"),
    "open_radio": ("runner", "open_radio"),
    "build_gateway": ("runner", "build_gateway"),
    "serve": ("runner", "serve"),
    "wearers_of": ("runner", "wearers_of"),
    "read_trace": ("traces", "read_trace"),
    "write_trace": ("traces", "write_trace"),
    "TraceError": ("traces", "TraceError"),
    "simulate_day": ("simulator", "simulate_day"),
    "get_profile": ("profiles", "get_profile"),
    "Nudge": ("profiles", "Nudge"),
    "Profile": ("profiles", "Profile"),
    "VirtualRadio": ("virtual", "VirtualRadio"),
    "VirtualSensor": ("virtual", "VirtualSensor"),
    "GatewayConfig": ("settings", "GatewayConfig"),
    "GatewaySettings": ("settings", "GatewaySettings"),
    "HomeAssistantSettings": ("settings", "HomeAssistantSettings"),
    "WearerSettings": ("settings", "WearerSettings"),
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


__getattr__ = front_door(__name__, _EXPORTS)
