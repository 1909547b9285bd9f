"""Log lines as JSON objects, one per line, for log collectors (journald, Loki, Elasticsearch).

`posture --log-format json ...` (or `POSTURE_LOG_FORMAT=json`). Each line holds the time (ISO
8601, UTC), level, logger and message, and the message's `key=value` pairs as fields of their
own (`connected sensor=trunk mtu=247` gives `"sensor": "trunk", "mtu": "247"`), so that a
collector can filter on them without parsing text. A traceback goes in `exc`.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

_PAIR = re.compile(r"(?<!\S)([a-z_][a-z0-9_]*)=(\S+)")
_OWN: Final = frozenset({"time", "level", "logger", "message", "exc"})


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message,
        }
        for key, value in _PAIR.findall(message):
            if key not in _OWN:
                out.setdefault(key, value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def handler(log_format: LogFormat) -> logging.Handler:
    """A stderr handler writing lines of text (the default) or JSON objects."""
    out = logging.StreamHandler()
    if log_format is LogFormat.JSON:
        out.setFormatter(JsonFormatter())
    else:
        out.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return out
