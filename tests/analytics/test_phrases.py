"""The message bank: enough varied, plain messages per kind in every language, naming the bout
length, and never one of the last five again."""

from __future__ import annotations

import re
import string

import pytest

from analytics.messages import decode_nudge, encode_nudge, nudge_message
from analytics.nudges import Nudger
from analytics.params import LANGUAGES, BoutRules, NudgePolicy
from analytics.phrases import KINDS, PHRASES, RECENT, choose, render
from analytics.records import Event, EventKind, Posture
from tests.synthetic import timeline

T0 = 1_709_625_600.0


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_at_least_20_distinct_messages_naming_the_bout(
    language: str, kind: str
) -> None:
    bank = PHRASES[language][kind]
    assert len(bank) >= 20
    assert len(set(bank)) == len(bank)
    assert len(bank) == len(PHRASES["en"][kind])  # translations line up, phrase by phrase
    for text in bank:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        assert fields == {"minutes"}, text
        shown = text.format(minutes=47)
        assert "47" in shown
        assert len(shown) <= 120, shown  # short enough for a notification


def test_the_languages_have_the_same_phrases_in_the_same_order() -> None:
    for kind in KINDS:
        en = PHRASES["en"][kind]
        de = PHRASES["de"][kind]
        # a German message is not an English one left untranslated
        assert not set(en) & set(de)
        assert all(re.search(r"\b(Du|du|Dein|dein|Min\.)", t) for t in de), kind


def test_choose_never_picks_a_recent_phrase() -> None:
    recent = [3, 7, 11, 12, 0]
    picks = {choose("sitting", recent, u / 100) for u in range(100)}
    assert not picks & set(recent)
    assert len(picks) == len(PHRASES["en"]["sitting"]) - len(recent)


def test_sent_nudges_repeat_no_phrase_within_the_last_five() -> None:
    n = Nudger("w1", NudgePolicy(), BoutRules(), hold_s=60.0)
    events = n.push(timeline(T0, *[(Posture.SITTING, 200.0), (Posture.WALKING, 3.0)] * 12))
    phrases = [e.values["phrase"] for e in events if e.kind is EventKind.NUDGE]
    assert len(phrases) >= 100
    for i in range(len(phrases)):
        assert phrases[i] not in phrases[max(0, i - RECENT) : i], i
    assert len(set(phrases)) > 15  # and they vary


def test_the_walk_preset_and_the_language_choose_the_words() -> None:
    policy = NudgePolicy(preset="walk5", language="de")
    n = Nudger("w1", policy, BoutRules(), hold_s=60.0)
    (nudge,) = [
        e for e in n.push(timeline(T0, (Posture.SITTING, 40.0))) if e.kind is EventKind.NUDGE
    ]
    assert str(nudge.values["phrase"]).startswith("walk.")
    assert nudge.values["language"] == "de"
    message = decode_nudge(encode_nudge(nudge)).message
    assert message in {t.format(minutes=30) for t in PHRASES["de"]["walk"]}


def test_a_nudge_without_a_known_phrase_still_has_words() -> None:
    unknown = Event(
        "w1",
        EventKind.NUDGE,
        0.0,
        0.0,
        {"reason": "sitting", "phrase": "sitting.99", "bout_s": 1800.0},
    )
    assert nudge_message(unknown) == "You have been sitting for 30 min: time to stand up and move."
    standing = Event("w1", EventKind.NUDGE, 0.0, 0.0, {"reason": "standing"})
    assert "standing" in nudge_message(standing)
    with pytest.raises(KeyError):
        render("sitting.x", language="en", bout_s=60.0)
