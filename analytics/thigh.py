"""Posture from a thigh sensor: the thigh decides sitting (docs/architecture.md section 6).

The thigh is sitting (or lying) when its axis is more than `thigh_sitting_deg` from upright. The
angle is taken between axes, not vectors: a sensor put back upside down (a phone turned in the
pocket) reads the same, and a real thigh is never more than about 135 deg from upright. With a
trunk sensor as well, a horizontal thigh with the trunk beyond `lying_deg` is lying.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .arrays import angle_deg
from .params import Thresholds
from .records import Posture
from .timeline import CODE

F64 = NDArray[np.float64]
FACE_WEIGHT = 0.5  # how much the sensor's face counts against the old reference while in doubt


def thigh_postures(
    thigh_g: F64,
    thigh_up: F64 | None,
    *,
    trunk: tuple[F64, F64 | None] | None,
    thresholds: Thresholds,
    normal: F64 | None = None,
) -> NDArray[np.int8]:
    """Posture codes (k,) of seconds with thigh gravity (k, 3): standing, sitting or lying.

    `trunk` is the trunk's gravity (k, 3) and upright reference, if there is a trunk sensor.
    `normal`: while the reference is in doubt (the sensor may have been put back differently),
    the sensor axis out of the body; a sensor lying flat on the thigh then also tells the
    thigh's angle from vertical by how far gravity leaves the sensor's face, which counts half
    as much as the angle from the old reference. Unknown where a reference or data are missing.
    """
    code = np.full(thigh_g.shape[0], CODE[Posture.UNKNOWN], dtype=np.int8)
    if thigh_up is None:
        return code
    angle = angle_deg(thigh_g, thigh_up)
    folded = np.minimum(angle, 180.0 - angle)
    if normal is not None:
        to_normal = angle_deg(thigh_g, normal)
        face = 90.0 - np.minimum(to_normal, 180.0 - to_normal)  # gravity out of the face
        folded = folded + FACE_WEIGHT * (face - thresholds.thigh_sitting_deg)
    with np.errstate(invalid="ignore"):
        seated = folded >= thresholds.thigh_sitting_deg
        code[folded < thresholds.thigh_sitting_deg] = CODE[Posture.STANDING]
        code[seated] = CODE[Posture.SITTING]
        if trunk is not None and trunk[1] is not None:
            lying = angle_deg(trunk[0], trunk[1]) >= thresholds.lying_deg
            code[seated & lying] = CODE[Posture.LYING]
    return code
