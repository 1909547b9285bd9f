"""--log-format json: one JSON object per log line, with the message's key=value pairs."""

from __future__ import annotations

import json
import logging

from typer.testing import CliRunner

from posture.cli import app
from posture.logformat import JsonFormatter


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            exc_info = sys.exc_info()
    return logging.LogRecord(
        "sensor_gateway.connection", logging.INFO, "x.py", 1, message, args, exc_info
    )


def test_a_record_is_one_json_object_with_its_pairs_as_fields() -> None:
    line = JsonFormatter().format(record("connected sensor=%s mtu=%d", "trunk", 247))
    assert "\n" not in line
    data = json.loads(line)
    assert data["level"] == "info"
    assert data["logger"] == "sensor_gateway.connection"
    assert data["message"] == "connected sensor=trunk mtu=247"
    assert (data["sensor"], data["mtu"]) == ("trunk", "247")
    assert data["time"].endswith("+00:00")


def test_pairs_never_overwrite_the_records_own_fields_and_tracebacks_stay_one_line() -> None:
    data = json.loads(JsonFormatter().format(record("odd level=high message=x", exc=True)))
    assert data["level"] == "info"
    assert data["message"] == "odd level=high message=x"
    assert "ValueError: boom" in data["exc"]


def test_the_option_and_the_environment_choose_the_format() -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["--log-format", "json", "decode", "--profile", "microbit", "0c00d8ff00fc"]
    )
    assert result.exit_code == 0, result.output
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)
    result = runner.invoke(
        app, ["decode", "--profile", "microbit", "0c00"], env={"POSTURE_LOG_FORMAT": "text"}
    )
    assert not isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)
    result = runner.invoke(app, ["--log-format", "xml", "decode", "--help"])
    assert result.exit_code == 2
