"""The provisioned dashboard files and Grafana's query interpolation (no servers)."""

from __future__ import annotations

import re

import pytest

from dashboards import boards
from dashboards.grafana import (
    ALL,
    DASHBOARDS_DIR,
    DATASOURCE,
    InterpolationError,
    Selection,
    dump,
    escape_regex,
    format_interval,
    interpolate,
    load_dashboards,
    panel_queries,
)
from dashboards.queries import GATE_MARK, MIN_GROUP_SIZE, hour_of_day, schema_names

FILES = load_dashboards()


def test_the_committed_dashboards_are_what_the_builder_makes() -> None:
    built = boards.build()
    assert sorted(FILES) == sorted(name.rsplit("/", 1)[1] for name in built)
    for name, model in built.items():
        on_disk = (DASHBOARDS_DIR / name).read_text()
        assert on_disk == dump(model), f"{name} is stale: run python -m dashboards.boards"


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_dashboard_is_a_valid_grafana_model(name: str) -> None:
    model = FILES[name]
    assert re.fullmatch(r"[a-z0-9-]{1,40}", model["uid"])
    assert model["schemaVersion"] >= 36
    assert model["title"]
    ids = [p["id"] for p in model["panels"]]
    assert len(ids) == len(set(ids))
    for panel in model["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] >= 0
        assert grid["x"] + grid["w"] <= 24
        assert grid["h"] > 0
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(refs) == len(set(refs)), panel["title"]
        for t in panel.get("targets", []):
            assert t["datasource"] == DATASOURCE
            assert t["rawQuery"] is True
    variables = {v["name"] for v in model["templating"]["list"]}
    used = {m for pq in panel_queries(model) for m in re.findall(r"\$\{?(\w+)", pq.query)}
    assert used - {"timeFilter", "__interval"} <= variables


def test_uids_and_titles_are_unique() -> None:
    assert len({m["uid"] for m in FILES.values()}) == len(FILES)
    assert len({m["title"] for m in FILES.values()}) == len(FILES)


def outer_where(query: str) -> str:
    """The WHERE clause of the outermost SELECT (text at parenthesis depth 0)."""
    depth, outer = 0, []
    for ch in query:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0:
            outer.append(ch)
    text = "".join(outer)
    return text[text.index(" WHERE ") :]


def test_every_team_query_keeps_only_groups_of_the_minimum_size() -> None:
    for model in FILES.values():
        if model["uid"] not in ("posture-team", "posture-nudges"):
            continue
        for pq in panel_queries(model):
            assert f"{GATE_MARK}{MIN_GROUP_SIZE}" in outer_where(pq.query), pq.key


def test_a_minimum_group_below_two_is_refused() -> None:
    with pytest.raises(ValueError, match="individuals"):
        boards.build(1)


def test_divisions_are_never_integer_divisions() -> None:
    """InfluxDB divides integers as integers inside subqueries: divisors are float literals or
    the numerator is multiplied by 1.0."""
    for model in FILES.values():
        for pq in panel_queries(model):
            assert not re.search(r"/ \d+(?![.\d])", pq.query), pq.key


def test_hour_of_day_checks_its_hour() -> None:
    assert "time(1d, 23h)" in hour_of_day(23)
    with pytest.raises(ValueError, match="hour"):
        hour_of_day(24)


def test_schema_names_are_the_quoted_identifiers() -> None:
    assert schema_names('SELECT "a" / 2.0 AS x FROM "m" WHERE "t" =~ /^v$/') == {"a", "m", "t"}


MODEL = {
    "templating": {
        "list": [
            {"name": "team", "allValue": ".*", "options": []},
            {
                "name": "wearer",
                "options": [{"value": "w.1"}, {"value": "w2"}, {"value": ALL}],
            },
            {"name": "tz"},
        ]
    }
}


def sel(**values: object) -> Selection:
    return Selection(start_s=1000.0, end_s=4600.5, interval_s=300, values=values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "values", "expected"),
    [
        ("/^$team$/", {"team": ALL}, "/^.*$/"),
        ("/^$team$/", {"team": ["a", "b"]}, "/^(a|b)$/"),
        ("/^${team}$/", {"team": "a.b"}, "/^a\\.b$/"),
        ("/^[[team]]$/", {"team": ["x"]}, "/^x$/"),
        ("/^$wearer$/", {"wearer": ALL}, "/^(w\\.1|w2)$/"),
        ("tz('${tz:raw}')", {"tz": "Europe/Berlin"}, "tz('Europe/Berlin')"),
        ("$timeFilter", {}, "time >= 1000000ms and time <= 4600500ms"),
        ("time($__interval) $__interval_ms", {}, "time(5m) 300000"),
    ],
)
def test_interpolation_follows_grafana(
    query: str, values: dict[str, object], expected: str
) -> None:
    assert interpolate(query, MODEL, sel(**values)) == expected


@pytest.mark.parametrize(
    ("query", "values"),
    [("$site", {}), ("$team", {}), ("${team:csv}", {"team": "a"}), ("$__range", {})],
)
def test_interpolation_refuses_what_grafana_would_not_fill_in(
    query: str, values: dict[str, object]
) -> None:
    with pytest.raises(InterpolationError):
        interpolate(query, MODEL, sel(**values))


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(300, "5m"), (90, "1m"), (86400 * 2, "2d"), (0.25, "250ms"), (3600, "1h"), (0.0001, "1ms")],
)
def test_intervals_are_formatted_like_grafana(seconds: float, text: str) -> None:
    assert format_interval(seconds) == text


def test_regex_escaping_matches_grafana() -> None:
    assert escape_regex("a.b-c(d)/e") == "a\\.b-c\\(d\\)\\/e"
