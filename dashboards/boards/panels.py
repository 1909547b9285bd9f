"""Grafana's dashboard JSON model, as small builders, and Grafana's query interpolation.

The builders produce the provisioned dashboard files (`dashboards.boards` says what is on them)
and their variants for importing into any Grafana (`for_import`). Every panel and query names
its data source through the dashboard's `datasource` variable, so a dashboard works with
whichever InfluxDB data source is chosen there; the provisioned files choose the provisioned
one.
`interpolate` turns a panel's raw InfluxQL into what Grafana sends to InfluxDB, following Grafana's
InfluxDB data source: the browser replaces the dashboard variables in the `regex` format (an
"All" selection becomes the variable's custom all value), then the server replaces
`$timeFilter`, `$interval`, `$__interval_ms` and `$__interval`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

GRAFANA_DIR: Final = Path(__file__).resolve().parents[1] / "grafana"  # dashboards/grafana
DASHBOARDS_DIR: Final = GRAFANA_DIR / "dashboards"
EXPORT_DIR: Final = GRAFANA_DIR / "export"  # the same dashboards, for Grafana's import
PROVISIONING_DIR: Final = GRAFANA_DIR / "provisioning"
PROVISIONED_DATASOURCE: Final = {"name": "Posture InfluxDB", "uid": "posture-influxdb"}
DATASOURCE: Final = {"type": "influxdb", "uid": "${datasource}"}  # the dashboard's variable
DATASOURCE_INPUT: Final = "DS_POSTURE_INFLUXDB"  # what Grafana's import asks to be chosen
SCHEMA_VERSION: Final = 41  # Grafana 11.6's dashboard JSON model
GRAFANA_VERSION: Final = "11.6.0"
ALL: Final = "$__all"
GRID_WIDTH: Final = 24

Json = dict[str, Any]


# -- building ---------------------------------------------------------------------------------


def target(query: str, ref: str = "A", *, alias: str = "", table: bool = False) -> Json:
    """A raw InfluxQL query of a panel."""
    out: Json = {
        "refId": ref,
        "datasource": DATASOURCE,
        "rawQuery": True,
        "query": query,
        "resultFormat": "table" if table else "time_series",
    }
    if alias:
        out["alias"] = alias
    return out


@dataclass
class Panel:
    """One panel; `layout` places it."""

    title: str
    kind: str  # Grafana panel type: timeseries, stat, barchart, heatmap, table, text, ...
    targets: list[Json] = field(default_factory=list)
    description: str = ""
    width: int = 12
    height: int = 8
    unit: str = ""
    options: Json = field(default_factory=dict)
    defaults: Json = field(default_factory=dict)  # fieldConfig.defaults beyond the unit
    custom: Json = field(default_factory=dict)  # fieldConfig.defaults.custom
    overrides: list[Json] = field(default_factory=list)
    transformations: list[Json] = field(default_factory=list)

    def model(self, panel_id: int, x: int, y: int) -> Json:
        """The panel's JSON; raises ValueError without a description, or a unit on data."""
        if not self.description:
            raise ValueError(f"panel {self.title!r} has no description")
        if self.targets and not self.unit:
            raise ValueError(f"panel {self.title!r} has no unit (use 'none' for plain numbers)")
        defaults: Json = {**self.defaults}
        if self.unit:
            defaults["unit"] = self.unit
        if self.custom:
            defaults["custom"] = self.custom
        out: Json = {
            "id": panel_id,
            "type": self.kind,
            "title": self.title,
            "description": self.description,
            "gridPos": {"x": x, "y": y, "w": self.width, "h": self.height},
            "options": self.options,
            "fieldConfig": {"defaults": defaults, "overrides": self.overrides},
        }
        if self.targets:
            out["datasource"] = DATASOURCE
            out["targets"] = self.targets
        if self.transformations:
            out["transformations"] = self.transformations
        return out


def layout(panels: Sequence[Panel]) -> list[Json]:
    """Panels placed left to right, wrapping at the grid width; ids in order."""
    out = []
    x = y = row_height = 0
    for i, panel in enumerate(panels, start=1):
        if x + panel.width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        out.append(panel.model(i, x, y))
        x += panel.width
        row_height = max(row_height, panel.height)
    return out


def query_variable(
    name: str,
    label: str,
    query: str,
    *,
    multi: bool = True,
    all_value: str | None = ".*",
) -> Json:
    """A drop-down filled by an InfluxQL meta query (`SHOW TAG VALUES ...`)."""
    out: Json = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": query,
        "definition": query,
        "refresh": 2,  # on time range change
        "sort": 1,
        "multi": multi,
        "includeAll": all_value is not None,
        "options": [],  # Grafana fills them, and the current value, from the query
        "hide": 0,
    }
    if all_value is not None:
        out["allValue"] = all_value
    return out


def datasource_variable() -> Json:
    """The InfluxDB data source every panel queries; the provisioned one unless changed."""
    uid = PROVISIONED_DATASOURCE["uid"]
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": DATASOURCE["type"],
        "regex": "",
        "refresh": 1,
        "multi": False,
        "includeAll": False,
        "current": {"text": PROVISIONED_DATASOURCE["name"], "value": uid},
        "options": [],
        "hide": 0,
    }


def link(title: str, *, tags: Sequence[str], tooltip: str) -> Json:
    """A link in the dashboard's header to the dashboards with these tags.

    It keeps the time range and the variables, so the team and site chosen here stay chosen.
    """
    return {
        "title": title,
        "type": "dashboards",
        "tags": list(tags),
        "asDropdown": True,
        "icon": "external link",
        "tooltip": tooltip,
        "url": "",
        "targetBlank": False,
        "includeVars": True,
        "keepTime": True,
    }


def custom_variable(name: str, label: str, values: Sequence[str]) -> Json:
    """A drop-down with fixed values; the first is the default."""
    options = [{"text": v, "value": v, "selected": i == 0} for i, v in enumerate(values)]
    return {
        "name": name,
        "label": label,
        "type": "custom",
        "query": ",".join(values),
        "multi": False,
        "includeAll": False,
        "current": {"text": values[0], "value": values[0]},
        "options": options,
        "hide": 0,
    }


def dashboard(
    uid: str,
    title: str,
    panels: Sequence[Panel],
    variables: Sequence[Json],
    *,
    description: str,
    tags: Sequence[str],
    links: Sequence[Json] = (),
    time_from: str = "now-7d",
    refresh: str = "",
) -> Json:
    """A dashboard; its first variable is the data source (`datasource_variable`)."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": list(tags),
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "timezone": "browser",
        "time": {"from": time_from, "to": "now"},
        "refresh": refresh,
        "templating": {"list": [datasource_variable(), *variables]},
        "annotations": {"list": []},
        "links": list(links),
        "panels": layout(panels),
    }


PANEL_PLUGINS: Final = {
    "bargauge": "Bar gauge",
    "barchart": "Bar chart",
    "heatmap": "Heatmap",
    "stat": "Stat",
    "state-timeline": "State timeline",
    "table": "Table",
    "text": "Text",
    "timeseries": "Time series",
}


def for_import(model: Json) -> Json:
    """The dashboard as Grafana exports it for sharing: importing it asks for the data source.

    `__inputs` names the data source to choose; Grafana's import puts the chosen one in place of
    `${DS_POSTURE_INFLUXDB}`, the default of the `datasource` variable. `__requires` lists the
    Grafana version and the panel plugins it was built for.
    """
    out: Json = json.loads(json.dumps(model))
    chosen = "${" + DATASOURCE_INPUT + "}"
    for variable in out["templating"]["list"]:
        if variable["type"] == "datasource":
            variable["current"] = {"text": chosen, "value": chosen}
    kinds = sorted({p["type"] for p in model["panels"]})
    out["__inputs"] = [
        {
            "name": DATASOURCE_INPUT,
            "label": PROVISIONED_DATASOURCE["name"],
            "description": "InfluxDB, queried with InfluxQL, that the recorder writes to",
            "type": "datasource",
            "pluginId": "influxdb",
            "pluginName": "InfluxDB",
        }
    ]
    out["__requires"] = [
        {"type": "grafana", "id": "grafana", "name": "Grafana", "version": GRAFANA_VERSION},
        {"type": "datasource", "id": "influxdb", "name": "InfluxDB", "version": "1.0.0"},
        *({"type": "panel", "id": k, "name": PANEL_PLUGINS[k], "version": ""} for k in kinds),
    ]
    return out


def dump(model: Json) -> str:
    """The dashboard file's text (stable: sorted keys, two-space indent, newline at the end)."""
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# -- reading ----------------------------------------------------------------------------------


def load_dashboards(directory: Path = DASHBOARDS_DIR) -> dict[str, Json]:
    """Every dashboard file in `directory`, by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted(directory.rglob("*.json"))}


@dataclass(frozen=True, slots=True)
class PanelQuery:
    """One query of one panel, with where it comes from."""

    dashboard: str  # uid
    panel: str  # title
    ref: str
    query: str
    alias: str = ""

    @property
    def key(self) -> str:
        return f"{self.dashboard}/{self.panel}/{self.ref}"


def panel_queries(model: Json) -> Iterator[PanelQuery]:
    """The raw InfluxQL of every target of every panel (rows included)."""
    stack = list(model.get("panels", []))
    while stack:
        panel = stack.pop(0)
        stack.extend(panel.get("panels", []))  # collapsed rows hold their panels
        for t in panel.get("targets", []):
            yield PanelQuery(
                dashboard=model["uid"],
                panel=panel["title"],
                ref=t["refId"],
                query=t["query"],
                alias=t.get("alias", ""),
            )


def variable_queries(model: Json) -> Iterator[tuple[str, str]]:
    """(name, query) of every query variable."""
    for v in model.get("templating", {}).get("list", []):
        if v.get("type") == "query":
            yield v["name"], v["query"]


# -- interpolation ----------------------------------------------------------------------------

# Grafana's variable syntaxes: $name, [[name]] / [[name:format]], ${name} / ${name:format}
_VARIABLE = re.compile(r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?::([^}]+))?\}")
_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")
_BACKEND = ("timeFilter", "interval", "__interval", "__interval_ms")


class InterpolationError(ValueError):
    """A query that uses a variable or macro Grafana would not fill in."""


@dataclass(frozen=True, slots=True)
class Selection:
    """What a viewer has selected: the time range, the interval and each variable's value."""

    start_s: float
    end_s: float
    interval_s: float
    values: Mapping[str, str | Sequence[str]]  # ALL for "All"


def escape_regex(value: str) -> str:
    """Grafana's `escapeRegex` (the `regex` variable format)."""
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), value)


def format_interval(seconds: float) -> str:
    """Grafana's `gtime.FormatInterval`: the largest whole unit (1d, 5m, 30s, 100ms)."""
    ms = round(seconds * 1000)
    for unit, size in (("y", 365 * 86_400_000), ("d", 86_400_000), ("h", 3_600_000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    for unit, size in (("m", 60_000), ("s", 1000), ("ms", 1)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return "1ms"


def _variable_value(variable: Json, selected: str | Sequence[str]) -> str:
    values = [selected] if isinstance(selected, str) else list(selected)
    if values == [ALL]:
        if variable.get("allValue"):
            return str(variable["allValue"])  # a custom all value is not escaped
        values = [o["value"] for o in variable.get("options", []) if o["value"] != ALL]
    escaped = [escape_regex(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def interpolate(query: str, model: Json, selection: Selection) -> str:
    """The query Grafana sends to InfluxDB for this dashboard and selection.

    Raises `InterpolationError` for a `$name` that is neither a dashboard variable with a
    selected value nor one of the server-side macros.
    """
    variables = {v["name"]: v for v in model.get("templating", {}).get("list", [])}

    def frontend(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(5)
        if name in _BACKEND:
            return match.group(0)
        if name not in variables:
            raise InterpolationError(f"unknown variable ${name} in {query[:120]!r}")
        if name not in selection.values:
            raise InterpolationError(f"no value selected for ${name}")
        selected = selection.values[name]
        if fmt == "raw" and isinstance(selected, str):
            return selected
        if fmt not in (None, "regex"):
            raise InterpolationError(f"format {fmt!r} of ${name} is not supported here")
        return _variable_value(variables[name], selected)

    text = _VARIABLE.sub(frontend, query)
    start_ms, end_ms = round(selection.start_s * 1000), round(selection.end_s * 1000)
    interval = format_interval(selection.interval_s)
    text = text.replace("$timeFilter", f"time >= {start_ms}ms and time <= {end_ms}ms")
    text = text.replace("$interval", interval)
    text = text.replace("$__interval_ms", str(round(selection.interval_s * 1000)))
    text = text.replace("$__interval", interval)
    leftover = re.search(r"\$\w+|\[\[", text)
    if leftover:
        raise InterpolationError(f"{leftover.group(0)} left in {text[:120]!r}")
    return text
