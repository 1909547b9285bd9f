"""The provisioned dashboard files and Grafana's query interpolation (no servers)."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from dashboards import boards
from dashboards.boards.panels import (
    ALL,
    DASHBOARDS_DIR,
    DATASOURCE,
    DATASOURCE_INPUT,
    EXPORT_DIR,
    PROVISIONED_DATASOURCE,
    SCHEMA_VERSION,
    InterpolationError,
    Panel,
    Selection,
    dump,
    escape_regex,
    for_import,
    format_interval,
    interpolate,
    load_dashboards,
    panel_queries,
    target,
)
from dashboards.queries import GATE_MARK, MIN_GROUP_SIZE, hour_of_day, schema_names
from tests.schemas import export_errors, grafana_errors, schema_default

FILES = load_dashboards()
EXPORTS = load_dashboards(EXPORT_DIR)


def test_the_committed_dashboards_are_what_the_builder_makes() -> None:
    built = boards.build()
    assert sorted(FILES) == sorted(name.rsplit("/", 1)[1] for name in built)
    assert sorted(EXPORTS) == sorted(FILES)
    for name, model in built.items():
        on_disk = (DASHBOARDS_DIR / name).read_text()
        assert on_disk == dump(model), f"{name} is stale: run python -m dashboards.boards"
        exported = (EXPORT_DIR / name.rsplit("/", 1)[1]).read_text()
        assert exported == dump(for_import(model)), f"export/{name} is stale"


@pytest.mark.parametrize(
    "model",
    [*FILES.values(), *EXPORTS.values()],
    ids=[*FILES, *(f"export/{n}" for n in EXPORTS)],
)
def test_every_dashboard_and_panel_follows_grafanas_schema(model: dict[str, Any]) -> None:
    assert grafana_errors(model) == []


def test_the_schema_version_is_grafana_11_6s() -> None:
    assert schema_default("Dashboard", "schemaVersion") == SCHEMA_VERSION
    assert {m["schemaVersion"] for m in FILES.values()} == {SCHEMA_VERSION}


def _break(model: dict[str, Any], change: str) -> dict[str, Any]:
    out = copy.deepcopy(model)
    panel = next(p for p in out["panels"] if p["title"] == "Trunk flexion")
    if change == "enum":
        panel["options"]["legend"] = {"displayMode": "sideways"}
    elif change == "unknown-key":
        panel["colour"] = "red"
    elif change == "type":
        out["schemaVersion"] = str(SCHEMA_VERSION)
    elif change == "null-threshold":
        panel["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] = None
    elif change == "by-name-object":
        panel["fieldConfig"]["overrides"].append(
            {"matcher": {"id": "byName", "options": {"name": "x"}}, "properties": []}
        )
    elif change == "override-value":
        panel["fieldConfig"]["overrides"].append(
            {
                "matcher": {"id": "byName", "options": "x"},
                "properties": [{"id": "unit", "value": 5}],
            }
        )
    elif change == "override-unknown":
        panel["fieldConfig"]["overrides"].append(
            {
                "matcher": {"id": "byName", "options": "x"},
                "properties": [{"id": "colour", "value": 1}],
            }
        )
    elif change == "custom":
        panel["fieldConfig"]["defaults"]["custom"]["drawStyle"] = "dots"
    elif change == "definition":
        out["templating"]["list"][1]["definition"] = "SHOW MEASUREMENTS"
    elif change == "variable-current":
        out["templating"]["list"][0]["current"] = {"text": "x"}
    elif change == "data-link":
        panel["fieldConfig"]["overrides"].append(
            {
                "matcher": {"id": "byName", "options": "x"},
                "properties": [{"id": "links", "value": [{"url": ""}]}],
            }
        )
    return out


@pytest.mark.parametrize(
    "change",
    [
        "enum",
        "unknown-key",
        "type",
        "null-threshold",
        "by-name-object",
        "override-value",
        "override-unknown",
        "custom",
        "definition",
        "variable-current",
        "data-link",
    ],
)
def test_the_schema_check_finds_what_is_wrong(change: str) -> None:
    model = FILES["wearer-drilldown.json"]
    assert grafana_errors(model) == []
    assert grafana_errors(_break(model, change)), f"{change} went unnoticed"


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_panel_has_a_unit_and_a_description(name: str) -> None:
    for panel in FILES[name]["panels"]:
        assert panel["description"], panel["title"]
        if panel["type"] != "text":  # a note: no data, so no unit
            assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]


def test_a_panel_without_a_unit_or_description_is_refused() -> None:
    query = [target("SELECT 1")]
    with pytest.raises(ValueError, match="description"):
        Panel("x", "stat", query, unit="h").model(1, 0, 0)
    with pytest.raises(ValueError, match="unit"):
        Panel("x", "stat", query, description="d").model(1, 0, 0)


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_query_uses_the_data_source_variable(name: str) -> None:
    model = FILES[name]
    (variable,) = [v for v in model["templating"]["list"] if v["type"] == "datasource"]
    assert variable["name"] == "datasource"
    assert variable["query"] == DATASOURCE["type"]
    assert variable["current"]["value"] == PROVISIONED_DATASOURCE["uid"]
    for panel in model["panels"]:
        if panel.get("targets"):
            assert panel["datasource"] == {"type": "influxdb", "uid": "${datasource}"}
    for query_variable in model["templating"]["list"]:
        if query_variable["type"] == "query":
            assert query_variable["datasource"] == DATASOURCE


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_the_exported_dashboards_ask_for_the_data_source_on_import(name: str) -> None:
    model = EXPORTS[name]
    assert export_errors(model) == []
    (variable,) = [v for v in model["templating"]["list"] if v["type"] == "datasource"]
    assert variable["current"]["value"] == "${" + DATASOURCE_INPUT + "}"
    assert "posture-influxdb" not in dump(model)  # nothing ties it to our data source's uid


def test_a_broken_export_is_noticed() -> None:
    model = copy.deepcopy(EXPORTS["team-overview.json"])
    model["__requires"] = [r for r in model["__requires"] if r["id"] != "heatmap"]
    model["__inputs"][0]["name"] = "DS_OTHER"
    errors = export_errors(model)
    assert any("heatmap" in e for e in errors)
    assert any("DS_OTHER" in e for e in errors)


def test_every_dashboard_links_to_the_others() -> None:
    uids = {m["uid"] for m in FILES.values()}
    for model in FILES.values():
        (link,) = model["links"]
        assert link["type"] == "dashboards"
        linked = {m["uid"] for m in FILES.values() if set(link["tags"]) <= set(m["tags"])}
        assert linked == uids, model["uid"]
        assert link["keepTime"]
        assert link["includeVars"]


def test_a_sensors_wearer_opens_the_wearers_drilldown() -> None:
    fleet, wearer = FILES["fleet-health.json"], FILES["wearer-drilldown.json"]
    links = [
        value
        for panel in fleet["panels"]
        for override in panel["fieldConfig"]["overrides"]
        if override["matcher"] == {"id": "byName", "options": "wearer"}
        for prop in override["properties"]
        if prop["id"] == "links"
        for value in prop["value"]
    ]
    (link,) = links
    assert link["url"].startswith(f"/d/{wearer['uid']}?var-wearer=${{__value.raw}}")
    assert "wearer" in {v["name"] for v in wearer["templating"]["list"]}


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
