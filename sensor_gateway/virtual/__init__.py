"""Virtual sensors: emulated peripherals on Bumble's in-process virtual link, and a bleak
backend (scanner and client) over the same link, so the gateway runs unchanged without an
adapter. Start a whole world with `VirtualRadio` (an async context manager).

In-process use (the demo), with a simulated day played 30 times faster than real time::

    timebase = TimeBase(origin_s=day_start, speed=30.0)   # stream time starts at day_start
    async with VirtualRadio(timebase=timebase) as radio:
        a = radio.add(VirtualSensor("polar_h10", trunk_trace))    # trace times on that axis
        b = radio.add(VirtualSensor("thingy52", thigh_trace))
        gateway = Gateway(
            [SensorAssignment(a.address, a.profile, SensorKey("w01", Placement.TRUNK)),
             SensorAssignment(b.address, b.profile, SensorKey("w01", Placement.THIGH))],
            EdgeService({"w01": [Placement.TRUNK, Placement.THIGH]}, sink),
            gateway_id="demo", radio=Radio.virtual(radio.adapter), timebase=timebase,
            health=publisher,
        )
        ...  # run gateway.run() in a task; gateway.stop() ends it
    # leaving the block stops every sensor; no task or process is left behind

Capacity: every notification costs both Bumble stacks some CPU; this process handles a few
thousand notifications per second. Profiles with one sample per notification (micro:bit,
Thingy:52, WitMotion, MetaMotion) send 50 x speed per second each; the Polar H10 sends ten
samples per notification. The sensors can also run in a process of their own, reached over a
socket (`VirtualRadio.expose` there, `remote_adapter` here), as `bench/gateway.py` runs them
to measure what the gateway's process alone spends.
"""

from __future__ import annotations

from .radio import VirtualAdapter, VirtualRadio, remote_adapter
from .sensor import VirtualSensor

__all__ = ["VirtualAdapter", "VirtualRadio", "VirtualSensor", "remote_adapter"]
