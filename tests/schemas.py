"""Upstream JSON schemas from ../shared/schemas/ (Grafana 11.6, the Compose specification), and
the checks the tests run with them.

The Grafana schemas are generated from Grafana's sources (cog) and carry known quirks; each is
handled here by name, never by ignoring a whole class of error:

- Options that Grafana fills with defaults are marked required in the panel plugins' schemas:
  `required` errors are dropped for panel options and field config only (not for the dashboard,
  its panels, variables or links).
- `MatcherConfig.options` is typed as an object, but the `byName` matcher takes a field name: such
  an option must be a string, and is validated as the empty object in its place.
- `DynamicConfigValue.value` (an override's property value) is typed as an object, but takes
  whatever the property it sets takes (a unit is a string, links a list): each value is
  validated against the schema of its property instead (`unit` against `FieldConfig.unit`,
  `custom.x` against the panel plugin's `FieldConfig.x`), and as the empty object in its place.
- Field config `links` are typed as dashboard links (which need an icon, tags, a dropdown flag,
  ...), but are data links (`title`, `url`, `targetBlank`; Grafana's `DataLink`): they are
  checked against `DATA_LINKS` below instead.
- Threshold steps serialise -Infinity as `null`: only the first step may be `null`, and is
  validated as -Infinity.
- Query variables carry `definition` (what Grafana's own editor writes), which the schema does
  not list: it must equal the variable's query, and is removed before validation.
- Dashboards exported for import carry `__inputs` and `__requires`, which are not part of the
  dashboard model: they are checked on their own and removed before validation.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = Path(os.environ.get("POSTURE_SCHEMAS", REPO.parent / "shared" / "schemas"))
GRAFANA = SCHEMAS / "grafana-11.6"
EXPORT_KEYS = ("__inputs", "__requires")

Json = dict[str, Any]

# Grafana's DataLink (packages/grafana-data/src/types/dataLink.ts), the links of a field
DATA_LINKS: Json = {
    "type": "array",
    "items": {
        "type": "object",
        "additionalProperties": False,
        "required": ["title", "url"],
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "url": {"type": "string", "minLength": 1},
            "targetBlank": {"type": "boolean"},
        },
    },
}


@cache
def _schema(name: str) -> Json:
    path = GRAFANA / f"{name}.jsonschema.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the tests need ../shared/schemas/")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def schema_default(definition: str, prop: str) -> Any:
    """The default the dashboard schema gives a property (e.g. the current schemaVersion)."""
    return _schema("dashboard")["definitions"][definition]["properties"][prop]["default"]


def _validator(name: str, definition: str) -> Draft7Validator:
    schema = _schema(name)
    return Draft7Validator(
        {"definitions": schema["definitions"], "$ref": f"#/definitions/{definition}"}
    )


def _walk(node: Any) -> Iterator[Json]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def without_quirks(model: Json) -> tuple[Json, list[str]]:
    """A copy of a dashboard with the schemas' quirks replaced, and the misuses of them found."""
    out = copy.deepcopy(model)
    wrong: list[str] = []
    for key in EXPORT_KEYS:
        out.pop(key, None)
    for variable in out.get("templating", {}).get("list", []):
        if "definition" in variable and variable.pop("definition") != variable.get("query"):
            wrong.append(f"variable {variable['name']}: definition is not its query")
    for node in _walk(out):
        matcher = node.get("matcher")
        if isinstance(matcher, dict) and matcher.get("id") == "byName":
            if not isinstance(matcher.get("options"), str):
                wrong.append(f"byName matcher with options {matcher.get('options')!r}")
            matcher["options"] = {}
        steps = node.get("steps") if node.get("mode") in ("absolute", "percentage") else None
        if isinstance(steps, list):
            for i, step in enumerate(steps):
                if step.get("value") is None:
                    if i:
                        wrong.append(f"threshold step {i} has no value")
                    step["value"] = float("-inf")
    return out, wrong


def _message(where: str, error: Any) -> str:
    path = "/".join(str(p) for p in error.absolute_path)
    detail = error.message[:160]
    if error.context:  # oneOf / anyOf: the branch that came closest
        best = min(error.context, key=lambda e: len(list(e.absolute_path)) * -1)
        detail += f" [closest: {'/'.join(map(str, best.absolute_path))}: {best.message[:120]}]"
    return f"{where} {path}: {error.validator}: {detail}"


def _override_errors(panel: Json, kind: str, where: str) -> Iterator[str]:
    """Errors of the panel's override values, each against its property's own schema; the
    values are replaced by the empty object that `DynamicConfigValue` is typed as."""
    for override in panel.get("fieldConfig", {}).get("overrides", []):
        for prop in override.get("properties", []):
            name = prop["id"]
            schema, field = ("dashboard", name)
            if name.startswith("custom."):
                schema, field = (kind, name.removeprefix("custom."))
            definitions = _schema(schema)["definitions"]
            properties = definitions["FieldConfig"]["properties"]
            if field not in properties:
                yield f"{where}: override sets unknown property {name}"
                continue
            own = DATA_LINKS if field == "links" else properties[field]
            validator = Draft7Validator({"definitions": definitions, **own})
            for error in validator.iter_errors(prop.get("value")):
                yield _message(f"{where} override {name}", error)
            prop["value"] = {}


def grafana_errors(model: Json) -> list[str]:
    """Every schema error of a dashboard, its panels' options and field config."""
    clean, errors = without_quirks(model)
    title = model.get("title", "?")
    errors = [f"{title}: {e}" for e in errors]
    for panel in clean.get("panels", []):
        kind = panel["type"].replace("-", "")
        where = f"{title} / {panel.get('title')} ({panel['type']})"
        if not (GRAFANA / f"{kind}.jsonschema.json").is_file():
            errors.append(f"{where}: no schema for panel type {panel['type']}")
            continue
        errors += _override_errors(panel, kind, where)
        plugin = _schema(kind)["definitions"]
        parts = [("Options", panel.get("options", {}))]
        if "FieldConfig" in plugin:
            parts.append(("FieldConfig", panel["fieldConfig"]["defaults"].get("custom", {})))
        for definition, value in parts:
            for error in _validator(kind, definition).iter_errors(value):
                if error.validator != "required":  # the quirk: defaults marked required
                    errors.append(_message(f"{where} {definition}", error))
    errors += [_message(title, e) for e in _validator("dashboard", "Dashboard").iter_errors(clean)]
    return errors


def export_errors(model: Json) -> list[str]:
    """What is wrong with the `__inputs` / `__requires` of a dashboard exported for import."""
    errors = []
    inputs = model.get("__inputs", [])
    placeholders = {f"${{{i['name']}}}" for i in inputs if i.get("type") == "datasource"}
    if not placeholders:
        errors.append("no data source among __inputs")
    text = json.dumps({k: v for k, v in model.items() if k not in EXPORT_KEYS})
    for placeholder in placeholders:
        if placeholder not in text:
            errors.append(f"{placeholder} is asked for but used nowhere")
    required = {(r["type"], r["id"]) for r in model.get("__requires", [])}
    for panel in model["panels"]:
        if ("panel", panel["type"]) not in required:
            errors.append(f"panel type {panel['type']} is not in __requires")
    if ("grafana", "grafana") not in required:
        errors.append("no Grafana version in __requires")
    return errors
