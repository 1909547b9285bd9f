"""Every panel query of every provisioned dashboard, run against a real influxd holding what the
recorder wrote from replayed real recordings, returns what the analytics computed.

The queries are taken from the committed dashboard files and interpolated the way Grafana does
(`dashboards.boards.panels.interpolate`); the expected rows come from `panel_oracles`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from analytics.summary import summarise
from dashboards import boards
from dashboards.boards.panels import (
    ALL,
    Json,
    PanelQuery,
    Selection,
    interpolate,
    load_dashboards,
    panel_queries,
    variable_queries,
)
from dashboards.queries import MIN_GROUP_SIZE, measurements, schema_names
from dashboards.schema import FIELDS, TAGS

from .fleet_data import START, TEAMS, TZ, Fleet
from .panel_oracles import ORACLES, WEARER_ORACLES, Row

pytestmark = pytest.mark.integration

TAG_COLUMNS = ("team", "gateway", "sensor", "wearer", "placement", "profile")
DASHBOARDS = {model["uid"]: model for model in load_dashboards().values()}


def selection(**values: str | Sequence[str]) -> Selection:
    chosen: dict[str, str | Sequence[str]] = {
        "team": ALL,
        "site": ALL,
        "tz": TZ,
        "gateway": ALL,
        **values,
    }
    return Selection(start_s=START - 86400, end_s=START + 86400, interval_s=300, values=chosen)


def run(fleet: Fleet, model: Json, pq: PanelQuery, sel: Selection) -> list[Row]:
    rows = fleet.influx.query(interpolate(pq.query, model, sel))
    return [{k: v for k, v in r.items() if k != "_measurement"} for r in rows]


def _key(row: Row) -> tuple[Any, ...]:
    return (row["time"], *(row.get(t) for t in TAG_COLUMNS))


def _values(row: Row) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "time" and k not in TAG_COLUMNS}


def differences(got: list[Row], expected: list[Row]) -> list[str]:
    """What differs between query rows and expected rows (rows whose values are all null count
    as absent: Grafana shows both as no value)."""
    got = [r for r in got if any(v is not None for v in _values(r).values())]
    expected = [r for r in expected if any(v is not None for v in _values(r).values())]
    by_key = {_key(r): r for r in got}
    wanted = {_key(r): r for r in expected}
    problems = [f"unexpected row {by_key[k]}" for k in by_key.keys() - wanted.keys()]
    problems += [f"missing row {wanted[k]}" for k in wanted.keys() - by_key.keys()]
    for k in wanted.keys() & by_key.keys():
        for column, value in _values(wanted[k]).items():
            actual = by_key[k].get(column)
            same = (
                math.isclose(float(actual), float(value), rel_tol=1e-9, abs_tol=1e-9)
                if isinstance(value, float | int)
                and not isinstance(value, bool)
                and actual is not None
                and not isinstance(actual, bool)
                else actual == value
            )
            if not same:
                problems.append(f"{column} at {k}: got {actual!r}, expected {value!r}")
    return problems


def test_the_variables_list_the_teams_sites_wearers_and_gateways(fleet: Fleet) -> None:
    expected = {
        "team": sorted(t for t, _ in TEAMS),
        "site": sorted(s for _, s in TEAMS),
        "wearer": sorted(w.id for w in fleet.wearers),
        "gateway": sorted({h.gateway_id for h in fleet.devices}),
    }
    seen = set()
    for model in DASHBOARDS.values():
        for name, query in variable_queries(model):
            rows = fleet.influx.query(interpolate(query, model, selection()))
            assert sorted(str(r["value"]) for r in rows) == expected[name], (model["uid"], name)
            seen.add(name)
    assert seen == set(expected)


def test_every_panel_query_returns_what_the_analytics_computed(fleet: Fleet) -> None:
    problems: dict[str, list[str]] = {}
    checked = 0
    non_empty = set()
    for model in DASHBOARDS.values():
        for pq in panel_queries(model):
            if pq.dashboard == "posture-wearer":
                oracle = WEARER_ORACLES.get(pq.key)
                assert oracle is not None, f"no expected values for {pq.key}: add an oracle"
                for w in fleet.wearers:
                    sel = selection(wearer=w.id)
                    got = run(fleet, model, pq, sel)
                    found = differences(got, oracle(w, sel))
                    if found:
                        problems[f"{pq.key} ({w.id})"] = found[:5]
                    non_empty |= {pq.key} if got else set()
                    checked += 1
                continue
            team_oracle = ORACLES.get(pq.key)
            assert team_oracle is not None, f"no expected values for {pq.key}: add an oracle"
            sel = selection()
            got = run(fleet, model, pq, sel)
            found = differences(got, team_oracle(fleet, sel, MIN_GROUP_SIZE))
            if found:
                problems[pq.key] = found[:5]
            non_empty |= {pq.key} if got else set()
            checked += 1
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())
    assert checked >= 60
    # the data exercise the panels: all but the slouch-nudge team panels (too few wearers with
    # slouch nudges in this fleet) and the hours of the day without data return rows
    empty = {
        k
        for m in DASHBOARDS.values()
        for k in (pq.key for pq in panel_queries(m))
        if k not in non_empty
    }
    # (too few wearers answered nudges for the response time; the smaller minimum group sizes
    # of the next test show those panels with data)
    expected_empty = {k for k in empty if "/H" in k or k.endswith("/B") or "Time to respond" in k}
    assert empty == expected_empty, sorted(empty - expected_empty)


def test_the_sitting_panel_equals_the_offline_total(fleet: Fleet) -> None:
    model = DASHBOARDS["posture-wearer"]
    (sitting,) = [pq for pq in panel_queries(model) if pq.panel == "Sitting"]
    for w in fleet.wearers:
        (row,) = run(fleet, model, sitting, selection(wearer=w.id))
        offline = summarise(w.output.events, w.output.minutes)
        assert row["sitting_h"] * 3600 == pytest.approx(offline.sitting_s, abs=1e-6)


def test_queries_name_only_fields_and_tags_the_recorder_writes(fleet: Fleet) -> None:
    in_database: dict[str, set[str]] = {}
    for m in FIELDS:
        fields = {r["fieldKey"] for r in fleet.influx.query(f'SHOW FIELD KEYS FROM "{m}"')}
        tags = {r["tagKey"] for r in fleet.influx.query(f'SHOW TAG KEYS FROM "{m}"')}
        in_database[m] = fields | tags
    for model in DASHBOARDS.values():
        queries = [pq.query for pq in panel_queries(model)] + [
            q for _, q in variable_queries(model)
        ]
        for query in queries:
            assert not unknown_names(query), (model["uid"], unknown_names(query), query)
            names = schema_names(query) - set(FIELDS)
            used = measurements(query)
            missing = names - set().union(*(in_database[m] for m in used))
            assert not missing, f"{sorted(missing)} not in the database: {query[:200]}"


def unknown_names(query: str) -> set[str]:
    """Quoted names of `query` that are not a measurement, or a field or tag of the measurements
    it reads, in `dashboards.schema` (what the recorder writes)."""
    used = measurements(query)
    if not used or not used <= set(FIELDS):
        return used - set(FIELDS) or {"<no measurement>"}
    known = set(FIELDS) | {n for m in used for n in (*FIELDS[m], *TAGS[m])}
    return schema_names(query) - known


@pytest.mark.parametrize(
    "query",
    [
        'SELECT sum("sitting_seconds") FROM "minute" WHERE $timeFilter',
        'SELECT count("duration_s") FROM "events" WHERE $timeFilter',
        'SELECT mean("battery_pct") FROM "minute" WHERE $timeFilter',
        'SELECT sum("sitting_s") FROM "minute" WHERE "department" = \'x\'',
    ],
)
def test_a_query_naming_what_the_recorder_never_writes_is_caught(query: str) -> None:
    assert unknown_names(query)


GATED = ("posture-team", "posture-nudges")


def gated_queries() -> list[tuple[Json, PanelQuery]]:
    return [(DASHBOARDS[uid], pq) for uid in GATED for pq in panel_queries(DASHBOARDS[uid])]


def test_small_groups_never_leave_influxdb(fleet: Fleet) -> None:
    """Team B has 2 wearers: no team query returns anything about it, whatever is selected."""
    small = [t for (t, _), recordings in TEAMS.items() if len(recordings) < MIN_GROUP_SIZE]
    assert small
    for model, pq in gated_queries():
        for sel in (selection(), selection(team=small), selection(team=small, site=ALL)):
            rows = run(fleet, model, pq, sel)
            assert not [r for r in rows if r.get("team") in small], pq.key
            if pq.panel == "Sitting by hour of day":
                assert sel.values["team"] == ALL or not rows, pq.key


def test_the_minimum_group_size_is_in_the_queries_themselves(fleet: Fleet) -> None:
    """Dashboards built with other minimum group sizes return exactly what the oracles allow:
    with 2 every panel has data; with 7 no team (team A has 6 wearers), only the hours of the
    day with 7 or more wearers of all teams together; with 9 (more than the fleet) nothing."""
    shown = set()
    for min_group in (2, 6, 7, len(fleet.wearers) + 1):
        seen = 0
        for model in boards.build(min_group).values():
            if model["uid"] not in GATED:
                continue
            for pq in panel_queries(model):
                rows = run(fleet, model, pq, selection())
                expected = ORACLES[pq.key](fleet, selection(), min_group)
                assert not differences(rows, expected), (min_group, pq.key)
                assert min_group <= len(fleet.wearers) or rows == []
                assert min_group <= 6 or all("team" not in r for r in rows)
                seen += len(rows)
                shown |= {pq.key} if rows else set()
        assert (seen > 0) == (min_group <= len(fleet.wearers))
    never = {pq.key for uid in GATED for pq in panel_queries(DASHBOARDS[uid])} - shown
    assert all("hour of day" in k for k in never), sorted(never)


def test_selecting_teams_and_sites_narrows_the_team_panels(fleet: Fleet) -> None:
    model = DASHBOARDS["posture-team"]
    (sitting,) = [pq for pq in panel_queries(model) if pq.panel == "Sitting per wearer and day"]
    both = run(fleet, model, sitting, selection(team=["teamA", "teamB"], site=["site1", "site2"]))
    assert [r["team"] for r in both] == ["teamA"]
    assert run(fleet, model, sitting, selection(site="site2")) == []
    assert run(fleet, model, sitting, selection(team="teamA")) == both
