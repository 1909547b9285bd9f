"""A package's front door that loads nothing before it is asked for.

`sensor_gateway` and `dashboards` name their public API in `__init__.py`; importing one of their
modules (say, the trace reader) must not load bleak, paho or InfluxDB's client for it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def front_door(package: str, exports: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: `exports` maps each public name to (module,
    attribute) inside the package, loaded on first use."""

    def load(name: str) -> Any:
        found = exports.get(name)
        if found is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = found
        return getattr(importlib.import_module(f"{package}.{module}"), attribute)

    return load
