"""What nudges say: a bank of plain messages per kind and language, each naming the bout length.

Kinds: `sitting` (a movement break: stand up for a couple of minutes), `walk` (the same nudge
with the "walk5" preset: a five-minute walk), `standing` (a long spell of standing still) and
`slouch` (leaning forward). `{minutes}` is the length of the bout so far. A nudge's phrase is
named `<kind>.<index>` (its event's `phrase` value); `choose` never picks one of the last
`RECENT` phrases of the same kind. Adding a language: a table like the ones below, with the same
number of phrases per kind, and its code in `analytics.params.LANGUAGES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

RECENT: Final = 5  # no phrase repeats within this many nudges of its kind

_EN: Final = {
    "sitting": (
        "You have been sitting for {minutes} min. Stand up and move for two minutes.",
        "{minutes} min in your chair: time to get up for a couple of minutes.",
        "You have sat for {minutes} min straight. A short spell on your feet helps your back.",
        "After {minutes} min of sitting, your legs would like a few steps.",
        "Sitting for {minutes} min now. Stand up, roll your shoulders, take a few steps.",
        "{minutes} min of sitting. Time to fetch a glass of water?",
        "You have been seated for {minutes} min. Take the next phone call standing up.",
        "Time for a pause: {minutes} min of sitting is enough for now. Two minutes on your feet.",
        "{minutes} min without getting up. Stand, stretch and breathe for a moment.",
        "A break from sitting? It has been {minutes} min. Walk to the window and back.",
        "You have sat for {minutes} min. Stand for two minutes, then carry on.",
        "{minutes} min at the desk. Get up and walk around the room once or twice.",
        "Your body has been in one position for {minutes} min. Change it: stand up for a bit.",
        "You have sat {minutes} min. Two minutes on your feet make the next hour easier.",
        "{minutes} min of sitting. Say hello to a colleague in person instead of by chat.",
        "Still sitting after {minutes} min. Stand up and stretch your arms above your head.",
        "You have been sitting {minutes} min. Go and refill your cup.",
        "{minutes} min seated. Stand up and shift your weight from foot to foot for a minute.",
        "A reminder after {minutes} min of sitting: up you get, just for a couple of minutes.",
        "{minutes} min in a row on your chair. A short walk down the corridor?",
        "Sitting for {minutes} min. Stand up and read the next page on your feet.",
    ),
    "walk": (
        "You have been sitting for {minutes} min. Time for a five-minute walk.",
        "{minutes} min of sitting: take a five-minute walk, around the floor or outside.",
        "After {minutes} min in your chair, a brisk five-minute walk will do you good.",
        "{minutes} min seated. Walk for five minutes: the stairs count double.",
        "You have sat for {minutes} min. Go for a five-minute stroll and come back fresh.",
        "Five minutes of walking now, after {minutes} min of sitting?",
        "{minutes} min at the desk. Take the long way to the coffee machine: five minutes.",
        "You have been sitting {minutes} min. A five-minute walk helps your back.",
        "{minutes} min without moving much. Walk for five minutes at an easy pace.",
        "Sitting for {minutes} min now. Make your next call on a five-minute walk.",
        "After {minutes} min of sitting: five minutes on your feet, walking.",
        "{minutes} min in your chair. Walk once round the building, about five minutes.",
        "Time to move: {minutes} min of sitting. Five minutes of walking, then back to it.",
        "You have sat {minutes} min. Get some fresh air on a five-minute walk.",
        "{minutes} min seated. Deliver your next message in person, the long way round.",
        "A five-minute walk is due: you have been sitting {minutes} min.",
        "{minutes} min of sitting is enough for now. Walk for five minutes.",
        "You have been at your desk for {minutes} min. Stretch your legs on a short walk.",
        "Up and out: {minutes} min of sitting calls for a five-minute walk.",
        "{minutes} min in a row. Walk up and down the stairs for a few minutes.",
    ),
    "standing": (
        "You have been standing for {minutes} min. Move around or sit down for a while.",
        "{minutes} min on your feet in one place. Walk a few steps or take a seat.",
        "Standing still for {minutes} min is hard on your back too. Change position.",
        "After {minutes} min of standing, lower the desk and sit for a bit.",
        "{minutes} min standing. Shift your weight, walk around, or sit down.",
        "You have stood for {minutes} min. A short walk will loosen your legs.",
        "{minutes} min standing at the desk. Time to sit for a while.",
        "Your feet have carried you for {minutes} min. Give them a break.",
        "Standing for {minutes} min now. Take a short walk or sit down.",
        "{minutes} min in one spot. Move: walk to the window and back.",
        "You have been standing still for {minutes} min. Sit or walk for a bit.",
        "{minutes} min of standing. Bend your knees, roll your shoulders, take a few steps.",
        "A long spell of standing: {minutes} min. Sit down for the next task.",
        "{minutes} min on your feet. Fetch a drink and sit down for a while.",
        "You have been standing {minutes} min. Change it: sit for the next half hour.",
        "After {minutes} min of standing, a walk around the office does you good.",
        "{minutes} min standing still. Your back likes a change of position.",
        "Standing is good, changing is better: {minutes} min so far. Sit or walk for a bit.",
        "{minutes} min at the standing desk. Time to lower it for a while.",
        "You have stood still for {minutes} min. Walk a little, then decide: sit or stand.",
    ),
    "slouch": (
        "You have been leaning forward for {minutes} min. Sit back and straighten up.",
        "{minutes} min bent over the desk. Lean back into your chair.",
        "Your back has been rounded for {minutes} min. Sit tall for a moment.",
        "Leaning forward for {minutes} min. Bring the screen closer instead of your head.",
        "{minutes} min hunched over. Roll your shoulders back and sit up.",
        "You have been slouching for {minutes} min. Feet flat, back against the backrest.",
        "{minutes} min leaning in. Sit up straight and take a deep breath.",
        "Check your posture: {minutes} min bent forward. Sit back.",
        "{minutes} min of leaning forward. Let the chair support your back.",
        "You have leaned forward for {minutes} min. Lift your chest, relax your shoulders.",
        "{minutes} min hunched. Pull your chair closer to the desk and sit upright.",
        "Your trunk has been bent for {minutes} min. Straighten up for a while.",
        "Slouching for {minutes} min. Sit tall, as if a string pulled your head up.",
        "{minutes} min bent over. Lean back, shoulders down, chin in.",
        "You have been leaning toward the screen for {minutes} min. Sit back a little.",
        "{minutes} min in a forward lean. Reset: sit back, stretch, sit tall.",
        "Bent forward for {minutes} min. Your lower back likes you sitting upright.",
        "{minutes} min leaning forward. Raise the screen to eye level if you can.",
        "Posture check after {minutes} min of leaning in: sit back and up.",
        "{minutes} min curled over the desk. Open up: shoulders back, sit tall.",
    ),
}

_DE: Final = {
    "sitting": (
        "Du sitzt seit {minutes} Min. Steh auf und beweg dich zwei Minuten.",
        "{minutes} Min. auf dem Stuhl: Zeit, für ein paar Minuten aufzustehen.",
        "Du sitzt schon {minutes} Min. am Stück. Kurz stehen tut dem Rücken gut.",
        "Nach {minutes} Min. Sitzen freuen sich deine Beine über ein paar Schritte.",
        "Seit {minutes} Min. im Sitzen. Aufstehen, Schultern kreisen, ein paar Schritte gehen.",
        "{minutes} Min. gesessen. Wie wäre es mit einem Glas Wasser?",
        "Du sitzt seit {minutes} Min. Führ das nächste Telefonat im Stehen.",
        "Zeit für eine Pause: {minutes} Min. Sitzen reichen fürs Erste. Zwei Minuten stehen.",
        "{minutes} Min. ohne aufzustehen. Steh auf, streck dich und atme durch.",
        "Eine Sitzpause? Es sind schon {minutes} Min. Geh zum Fenster und zurück.",
        "Du hast {minutes} Min. gesessen. Steh zwei Minuten, dann geht es weiter.",
        "{minutes} Min. am Schreibtisch. Steh auf und geh ein, zwei Runden durch den Raum.",
        "Dein Körper ist seit {minutes} Min. in derselben Haltung. Steh kurz auf.",
        "Du sitzt seit {minutes} Min. Zwei Minuten auf den Beinen, und es geht leichter weiter.",
        "{minutes} Min. Sitzen. Sag einer Kollegin persönlich Hallo statt im Chat.",
        "Nach {minutes} Min. sitzt du immer noch. Steh auf und streck die Arme nach oben.",
        "Du sitzt seit {minutes} Min. Hol dir etwas zu trinken.",
        "{minutes} Min. gesessen. Steh auf und verlagere das Gewicht von Fuß zu Fuß.",
        "Erinnerung nach {minutes} Min. Sitzen: hoch mit dir, nur für ein paar Minuten.",
        "{minutes} Min. am Stück auf dem Stuhl. Ein kurzer Gang über den Flur?",
        "Seit {minutes} Min. im Sitzen. Lies die nächste Seite im Stehen.",
    ),
    "walk": (
        "Du sitzt seit {minutes} Min. Zeit für fünf Minuten Gehen.",
        "{minutes} Min. gesessen: geh fünf Minuten, durchs Büro oder nach draußen.",
        "Nach {minutes} Min. auf dem Stuhl tun dir fünf Minuten zügiges Gehen gut.",
        "{minutes} Min. im Sitzen. Geh fünf Minuten: Treppen zählen doppelt.",
        "Du hast {minutes} Min. gesessen. Fünf Minuten Spaziergang, und du bist wieder frisch.",
        "Fünf Minuten gehen, nach {minutes} Min. Sitzen?",
        "{minutes} Min. am Schreibtisch. Nimm den langen Weg zur Kaffeemaschine: fünf Minuten.",
        "Du sitzt seit {minutes} Min. Fünf Minuten Gehen tun deinem Rücken gut.",
        "{minutes} Min. kaum bewegt. Geh fünf Minuten in gemütlichem Tempo.",
        "Seit {minutes} Min. im Sitzen. Führ das nächste Telefonat bei fünf Minuten Gehen.",
        "Nach {minutes} Min. Sitzen: fünf Minuten auf den Beinen, gehend.",
        "{minutes} Min. auf dem Stuhl. Geh eine Runde ums Gebäude, etwa fünf Minuten.",
        "Zeit für Bewegung: {minutes} Min. gesessen. Fünf Minuten gehen, dann weiter.",
        "Du hast {minutes} Min. gesessen. Schnapp frische Luft bei fünf Minuten Gehen.",
        "{minutes} Min. im Sitzen. Bring die nächste Nachricht persönlich vorbei, auf Umwegen.",
        "Fünf Minuten Gehpause sind fällig: Du sitzt seit {minutes} Min.",
        "{minutes} Min. Sitzen reichen fürs Erste. Geh fünf Minuten.",
        "Du bist seit {minutes} Min. am Schreibtisch. Vertritt dir die Beine.",
        "Raus und los: Nach {minutes} Min. Sitzen sind fünf Minuten Gehen dran.",
        "{minutes} Min. am Stück. Geh ein paar Minuten die Treppe hoch und runter.",
    ),
    "standing": (
        "Du stehst seit {minutes} Min. Beweg dich oder setz dich eine Weile.",
        "{minutes} Min. auf der Stelle gestanden. Geh ein paar Schritte oder setz dich.",
        "{minutes} Min. still stehen ist auch nicht gut für den Rücken. Wechsle die Haltung.",
        "Nach {minutes} Min. Stehen: Tisch herunter und eine Weile sitzen.",
        "{minutes} Min. gestanden. Gewicht verlagern, herumgehen oder hinsetzen.",
        "Du stehst seit {minutes} Min. Ein kurzer Gang lockert die Beine.",
        "{minutes} Min. am Stehtisch. Zeit, eine Weile im Sitzen zu arbeiten.",
        "Deine Füße tragen dich seit {minutes} Min. Gönn ihnen eine Pause.",
        "Seit {minutes} Min. im Stehen. Geh ein paar Schritte oder setz dich.",
        "{minutes} Min. auf einem Fleck. Beweg dich: zum Fenster und zurück.",
        "Du stehst seit {minutes} Min. still. Sitz oder geh eine Weile.",
        "{minutes} Min. Stehen. Knie beugen, Schultern kreisen, ein paar Schritte gehen.",
        "Lange gestanden: {minutes} Min. Setz dich für die nächste Aufgabe.",
        "{minutes} Min. auf den Beinen. Hol dir etwas zu trinken und setz dich eine Weile.",
        "Du stehst seit {minutes} Min. Zur Abwechslung: die nächste halbe Stunde im Sitzen.",
        "Nach {minutes} Min. Stehen tut dir eine Runde durchs Büro gut.",
        "{minutes} Min. still gestanden. Dein Rücken mag Haltungswechsel.",
        "Stehen ist gut, Wechseln ist besser: {minutes} Min. bisher. Sitz oder geh eine Weile.",
        "{minutes} Min. am Stehtisch. Zeit, ihn eine Weile herunterzufahren.",
        "Du stehst seit {minutes} Min. still. Geh ein wenig, dann entscheide: sitzen oder stehen.",
    ),
    "slouch": (
        "Du lehnst dich seit {minutes} Min. nach vorn. Setz dich zurück und richte dich auf.",
        "{minutes} Min. über den Tisch gebeugt. Lehn dich in den Stuhl zurück.",
        "Dein Rücken ist seit {minutes} Min. rund. Sitz einen Moment aufrecht.",
        "Seit {minutes} Min. vorgebeugt. Hol lieber den Bildschirm näher als den Kopf.",
        "{minutes} Min. gekrümmt. Schultern nach hinten und aufrichten.",
        "Du sitzt seit {minutes} Min. krumm. Füße flach, Rücken an die Lehne.",
        "{minutes} Min. nach vorn gelehnt. Setz dich gerade hin und atme tief durch.",
        "Haltung prüfen: {minutes} Min. vorgebeugt. Lehn dich zurück.",
        "{minutes} Min. nach vorn gebeugt. Lass den Stuhl deinen Rücken stützen.",
        "Du lehnst seit {minutes} Min. vorn. Brust heben, Schultern locker lassen.",
        "{minutes} Min. gekrümmt. Rück den Stuhl näher an den Tisch und sitz aufrecht.",
        "Dein Oberkörper ist seit {minutes} Min. gebeugt. Richte dich eine Weile auf.",
        "Seit {minutes} Min. krumm. Sitz so groß, als zöge ein Faden deinen Kopf nach oben.",
        "{minutes} Min. vorgebeugt. Zurücklehnen, Schultern runter, Kinn leicht einziehen.",
        "Du lehnst dich seit {minutes} Min. zum Bildschirm. Setz dich etwas zurück.",
        "{minutes} Min. in Vorlage. Zurücklehnen, strecken, aufrecht sitzen.",
        "Seit {minutes} Min. nach vorn gebeugt. Dein unterer Rücken dankt dir fürs Aufrichten.",
        "{minutes} Min. vorgebeugt. Stell den Bildschirm auf Augenhöhe, wenn es geht.",
        "Haltungscheck nach {minutes} Min. Vorbeugen: zurück und aufrecht.",
        "{minutes} Min. über den Tisch gerollt. Schultern zurück, aufrecht sitzen.",
    ),
}

PHRASES: Final[dict[str, dict[str, tuple[str, ...]]]] = {"en": _EN, "de": _DE}
KINDS: Final = ("sitting", "walk", "standing", "slouch")


def kind_of(reason: str, preset: str) -> str:
    """The bank a nudge's words come from: its reason, or `walk` for the "walk5" preset."""
    return "walk" if reason == "sitting" and preset == "walk5" else reason


def choose(kind: str, recent: Sequence[int], u: float) -> int:
    """The index of a phrase of `kind` that is not among `recent`, chosen by `u` in [0, 1)."""
    count = len(_EN[kind])
    allowed = [i for i in range(count) if i not in set(recent[-RECENT:])]
    return allowed[min(int(u * len(allowed)), len(allowed) - 1)]


def render(phrase: str, *, language: str, bout_s: float) -> str:
    """The words of `phrase` (`<kind>.<index>`) in `language`; raises KeyError if unknown."""
    kind, _, index = phrase.partition(".")
    if not index.isdigit():
        raise KeyError(phrase)
    bank = PHRASES[language][kind]
    number = int(index)
    if number >= len(bank):
        raise KeyError(phrase)
    return bank[number].format(minutes=max(1, round(bout_s / 60.0)))
