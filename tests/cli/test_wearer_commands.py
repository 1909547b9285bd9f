"""`posture cmd`: the words of the command line become the wearer's `Command`, or one line saying
what is wrong (exit 2)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from analytics.messages import Command, decode_command, encode_command
from posture.commands.wearer import _parse_command


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["snooze", "30"], Command("w1", "snooze", minutes=30.0)),
        (["snooze", "1.5"], Command("w1", "snooze", minutes=1.5)),
        (["dnd", "on"], Command("w1", "dnd", on=True)),
        (["dnd", "off"], Command("w1", "dnd", on=False)),
        (["calibrate"], Command("w1", "calibrate")),
        (
            ["quiet-hours", "12:00-13:00", "22:00-07:00"],
            Command("w1", "quiet_hours", spans=(("12:00", "13:00"), ("22:00", "07:00"))),
        ),
        (["quiet-hours", "none"], Command("w1", "quiet_hours", spans=())),
    ],
)
def test_command_words_become_the_command(words: list[str], expected: Command) -> None:
    parsed = _parse_command("w1", words[0], words[1:])
    assert parsed == expected
    assert decode_command(encode_command(parsed)) == expected


@pytest.mark.parametrize(
    ("wearer", "words", "text"),
    [
        ("", ["snooze", "30"], "--wearer"),
        ("a/b", ["snooze", "30"], "wearer id"),
        ("w1", ["snooze"], "snooze takes the minutes"),
        ("w1", ["snooze", "-5"], "snooze takes the minutes"),
        ("w1", ["snooze", "2000"], "snooze takes the minutes"),
        ("w1", ["snooze", "nan"], "snooze takes the minutes"),
        ("w1", ["dnd", "maybe"], "dnd takes on or off"),
        ("w1", ["calibrate", "now"], "calibrate takes no arguments"),
        ("w1", ["quiet-hours"], "HH:MM-HH:MM"),
        ("w1", ["quiet-hours", "12:00"], "HH:MM-HH:MM"),
        ("w1", ["quiet-hours", "25:00-26:00"], "out of range"),
        ("w1", ["reboot"], "unknown command 'reboot'"),
        ("w1", ["snooze", "until"], "snooze takes the minutes"),
        ("w1", ["snooze", "until", "25:00"], "out of range"),
        ("w1", ["snooze", "tomorrow"], "snooze takes the minutes"),
        ("w1", ["dnd", "on", "until"], "dnd takes on or off"),
        ("w1", ["dnd", "off", "until", "14:00"], "dnd takes on or off"),
        ("w1", ["desk"], "desk takes stand or sit"),
        ("w1", ["desk", "up"], "desk takes stand or sit"),
    ],
)
def test_bad_command_words_say_what_is_wrong(wearer: str, words: list[str], text: str) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011 (the message is checked below)
        _parse_command(wearer, words[0], words[1:])
    message = str(caught.value)
    assert text in message
    assert "\n" not in message


BERLIN = ZoneInfo("Europe/Berlin")


def _at(*when: int) -> float:
    return datetime(*when, tzinfo=BERLIN).timestamp()  # type: ignore[misc]


@pytest.mark.parametrize(
    ("now", "words", "until"),
    [
        (_at(2026, 9, 21, 10, 30), ["snooze", "until", "14:00"], _at(2026, 9, 21, 14, 0)),
        (_at(2026, 9, 21, 15, 0), ["snooze", "until", "14:00"], _at(2026, 9, 22, 14, 0)),
        (_at(2026, 9, 21, 14, 0), ["snooze", "until", "14:00"], _at(2026, 9, 22, 14, 0)),
        (_at(2026, 9, 21, 10, 30), ["snooze", "today"], _at(2026, 9, 22, 0, 0)),
        (_at(2026, 9, 21, 23, 59), ["snooze", "until", "24:00"], _at(2026, 9, 22, 0, 0)),
        # across the switch to summer time: 07:00 the next morning is 7 h away, not 8
        (_at(2026, 3, 28, 23, 0), ["snooze", "until", "07:00"], _at(2026, 3, 28, 23, 0) + 7 * 3600),
        (_at(2026, 9, 21, 10, 30), ["dnd", "on", "until", "12:15"], _at(2026, 9, 21, 12, 15)),
    ],
)
def test_an_end_time_is_the_next_such_time_in_the_wearers_zone(
    now: float, words: list[str], until: float
) -> None:
    parsed = _parse_command("w1", words[0], words[1:], now_s=now, zone=BERLIN)
    assert parsed.until_s == until
    assert decode_command(encode_command(parsed)) == parsed


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["dnd", "on", "today"], Command("w1", "dnd", on=True)),  # the gateway ends it at midnight
        (["desk", "stand"], Command("w1", "desk", position="stand")),
        (["desk", "sit"], Command("w1", "desk", position="sit")),
    ],
)
def test_more_command_words(words: list[str], expected: Command) -> None:
    assert _parse_command("w1", words[0], words[1:], now_s=_at(2026, 9, 21, 9, 0)) == expected
