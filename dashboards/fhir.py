"""A wearer's days as one FHIR R4 Bundle (JSON), for a health record.

One `collection` Bundle per wearer and period holds, per local calendar day, Observations of
category `activity`:

- sedentary (sitting) time, with the time in each posture as components coded with the HL7
  Personal Health Record body-posture codes (sitting, standing, lyingDown);
- prolonged-sitting time: minutes in sitting bouts of 30 min or more;
- sit-to-stand transitions;
- steps, with LOINC 41950-7 "Number of steps in 24 hour Measured".

LOINC has no codes for the first three (as of LOINC 2.77), so they carry this project's own
codes (`CODE_SYSTEM`) and a text. The subject is referenced by its pseudonym only (an identifier
in `WEARER_SYSTEM`): names live nowhere in the pipeline. Ids are derived from the content, so the
same data always gives the same Bundle. The tests validate every Bundle with two maintained FHIR
model libraries (fhirclient's R4 4.0.1 models and fhir.resources).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final
from zoneinfo import ZoneInfo

from analytics.outcomes import Day, day_bounds
from analytics.records import Posture

CODE_SYSTEM: Final = "urn:posture-monitor:outcome"
WEARER_SYSTEM: Final = "urn:posture-monitor:wearer"
PHR_POSTURE: Final = "http://hl7.org/fhir/uv/phr/CodeSystem/body-posture-codes"
LOINC: Final = "http://loinc.org"
UCUM: Final = "http://unitsofmeasure.org"
CATEGORY: Final = "http://terminology.hl7.org/CodeSystem/observation-category"
POSTURE_CODES: Final = {
    Posture.SITTING: ("sitting", "Sitting"),
    Posture.STANDING: ("standing", "Standing"),
    Posture.LYING: ("lyingDown", "Lying down"),
}
_NAMESPACE: Final = uuid.UUID("5b0b3c2e-7c47-4c1e-9d0e-2f1b8f5e2a61")


def _instant(t_s: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t_s, UTC).astimezone(zone).isoformat(timespec="seconds")


def _minutes(seconds: float) -> dict[str, Any]:
    return {"value": round(seconds / 60.0, 2), "unit": "min", "system": UCUM, "code": "min"}


def _code(code: str, text: str, system: str = CODE_SYSTEM) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": text}], "text": text}


def _observation(
    wearer: str, d: Day, zone: ZoneInfo, code: dict[str, Any], value: dict[str, Any]
) -> dict[str, Any]:
    start, end = day_bounds(d.day, zone)
    key = f"{wearer}|{d.day.isoformat()}|{code['coding'][0]['code']}"
    return {
        "resourceType": "Observation",
        "id": str(uuid.uuid5(_NAMESPACE, key)),
        "status": "final",
        "category": [_code("activity", "Activity", CATEGORY)],
        "code": code,
        "subject": {
            "identifier": {"system": WEARER_SYSTEM, "value": wearer},
            "display": f"wearer {wearer} (pseudonym)",
        },
        "effectivePeriod": {"start": _instant(start, zone), "end": _instant(end, zone)},
        "device": {"display": "posture-monitor (trunk and thigh accelerometers)"},
        **value,
    }


def observations(wearer: str, d: Day, zone: ZoneInfo) -> list[dict[str, Any]]:
    """The day's Observations."""
    s = d.summary
    sedentary = _observation(
        wearer,
        d,
        zone,
        _code("sedentary-time", "Sedentary time (sitting) per day"),
        {"valueQuantity": _minutes(s.sitting_s)},
    )
    sedentary["component"] = [
        {
            "code": _code(code, text, PHR_POSTURE),
            "valueQuantity": _minutes(s.posture_s.get(posture, 0)),
        }
        for posture, (code, text) in POSTURE_CODES.items()
    ]
    return [
        sedentary,
        _observation(
            wearer,
            d,
            zone,
            _code("prolonged-sitting-time", "Time in sitting bouts of 30 min or more per day"),
            {"valueQuantity": _minutes(d.long_sitting_s[30])},
        ),
        _observation(
            wearer,
            d,
            zone,
            _code("sit-to-stand", "Sit-to-stand transitions per day"),
            {"valueInteger": d.sit_to_stand},
        ),
        _observation(
            wearer,
            d,
            zone,
            _code("41950-7", "Number of steps in 24 hour Measured", LOINC),
            {
                "valueQuantity": {
                    "value": s.steps,
                    "unit": "steps/day",
                    "system": UCUM,
                    "code": "/d",
                }
            },
        ),
    ]


def bundle(wearer: str, days: Sequence[Day], zone: ZoneInfo, *, now_s: float) -> dict[str, Any]:
    """One `collection` Bundle with the Observations of every day in `days`."""
    entries = [
        {"fullUrl": f"urn:uuid:{o['id']}", "resource": o}
        for d in days
        for o in observations(wearer, d, zone)
    ]
    key = f"{wearer}|{'|'.join(d.day.isoformat() for d in days)}"
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_NAMESPACE, key)),
        "type": "collection",
        "timestamp": _instant(now_s, zone),
        "entry": entries,
    }
