"""`posture cmd`: the words of the command line become the wearer's `Command`, or one line saying
what is wrong (exit 2)."""

from __future__ import annotations

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
    ],
)
def test_bad_command_words_say_what_is_wrong(wearer: str, words: list[str], text: str) -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011 (the message is checked below)
        _parse_command(wearer, words[0], words[1:])
    message = str(caught.value)
    assert text in message
    assert "\n" not in message
