"""BBC micro:bit with the Bluetooth accelerometer service (DAL / CODAL firmware).

Data: 3 x int16 little endian, milli-g, one sample per notification. Period: uint16 ms; the
firmware snaps it to 1, 2, 5, 10, 20, 80, 160 or 640 and writes back the period it chose.
Nudges scroll text on the LED matrix (LED service, text characteristic).
"""

from __future__ import annotations

from .base import Layout, Nudge, Profile, Write

SERVICE = "e95d0753-251d-470a-a062-fa1922dfa9a8"
DATA = "e95dca4b-251d-470a-a062-fa1922dfa9a8"
PERIOD = "e95dfb24-251d-470a-a062-fa1922dfa9a8"
LED_SERVICE = "e95dd91d-251d-470a-a062-fa1922dfa9a8"
LED_TEXT = "e95d93ee-251d-470a-a062-fa1922dfa9a8"
PERIODS_MS = (1, 2, 5, 10, 20, 80, 160, 640)

LAYOUT = Layout(header=b"", dtype="<i2", values=3, samples=1, per_g=1000.0)


def snap_period_ms(requested_ms: int) -> int:
    """The period the firmware uses for a requested one: the nearest it supports, not shorter.

    >>> snap_period_ms(20), snap_period_ms(25), snap_period_ms(1000)
    (20, 80, 640)
    """
    return next((p for p in PERIODS_MS if p >= requested_ms), PERIODS_MS[-1])


PROFILE = Profile(
    name="microbit",
    service_uuid=SERVICE,
    data_uuid=DATA,
    decode=LAYOUT.decode,
    rate_hz=50.0,
    names=("BBC micro:bit",),
    start=(Write(PERIOD, (20).to_bytes(2, "little")),),
    nudges={
        Nudge.SITTING: (Write(LED_TEXT, b"MOVE"),),
        Nudge.SLOUCH: (Write(LED_TEXT, b"SIT UP"),),
        Nudge.STANDING: (Write(LED_TEXT, b"WALK"),),
    },
)
