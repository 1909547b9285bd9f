"""`posture nudges effect` reads the decision points back from a real influxd (written by the
recorder from replayed recordings, half of the decision points withheld) and reports the effect
the analytics' own records give; a team smaller than the minimum group size is refused."""

from __future__ import annotations

import os

import pytest
from click.testing import Result
from typer.testing import CliRunner

from analytics.effect import describe, effect
from posture.cli import app

from .fleet_data import TZ, Fleet

pytestmark = pytest.mark.integration

DAY = ["--from", "2026-09-21", "--to", "2026-09-21", "--tz", TZ]


def run(fleet: Fleet, *args: str) -> Result:
    env = {
        "POSTURE_INFLUX__URL": fleet.influx.settings.url,
        "POSTURE_INFLUX__DATABASE": fleet.influx.settings.database,
        "COLUMNS": "250",
    }
    return CliRunner().invoke(app, ["nudges", "effect", *args], env={**os.environ, **env})


def test_a_wearers_effect_is_what_their_records_say(fleet: Fleet) -> None:
    w = max(fleet.wearers, key=lambda w: len(w.nudges))
    offline = effect(w.events)
    assert offline.sent.decisions
    assert offline.withheld.decisions
    result = run(fleet, "--wearer", w.id, *DAY)
    assert result.exit_code == 0, result.output
    for line in describe(offline):
        assert line in " ".join(result.output.split()), line


def test_a_teams_effect_pools_its_wearers(fleet: Fleet) -> None:
    team = [w for w in fleet.wearers if w.team == "teamA"]
    offline = effect([e for w in team for e in w.events])
    assert offline.wearers >= 5
    result = run(fleet, "--team", "teamA", *DAY)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for line in describe(offline):
        assert line in text, line


def test_a_small_team_and_an_empty_range_are_refused(fleet: Fleet) -> None:
    small = run(fleet, "--team", "teamB", *DAY)
    assert small.exit_code == 1
    assert "a group's numbers are shown from 5 wearers on" in " ".join(small.output.split())
    empty = run(fleet, "--wearer", "w01", "--from", "2020-01-01", "--to", "2020-01-31")
    assert empty.exit_code == 1
    assert "no sitting nudge decision points" in empty.output
    both = run(fleet, "--wearer", "w01", "--team", "teamA")
    assert both.exit_code == 2
