"""The `posture` command line: a thin shell that loads settings and wires the packages together.

The application and its shared parts are in `posture.app`; the commands, by area, in
`posture.commands`.
"""

from __future__ import annotations

from posture.app import app
from posture.commands import analysis, data, nudges, sensors, services, wearer

__all__ = ["analysis", "app", "data", "nudges", "sensors", "services", "wearer"]

if __name__ == "__main__":
    app()
