"""Reading a wearer's records back from InfluxDB with InfluxQL."""

from __future__ import annotations

from analytics.records import Event, MinuteMetrics
from analytics.wire import check_id

from .influx import InfluxClient
from .schema import EVENT, MINUTE, event_from_row, minute_from_row


def _where(wearer_id: str, start_s: float | None, end_s: float | None) -> str:
    check_id(wearer_id, what="wearer id")
    clauses = [f"\"wearer\" = '{wearer_id}'"]
    if start_s is not None:
        clauses.append(f"time >= {round(start_s * 1000)}ms")
    if end_s is not None:
        clauses.append(f"time < {round(end_s * 1000)}ms")
    return " AND ".join(clauses)


def wearer_records(
    influx: InfluxClient,
    wearer_id: str,
    *,
    start_s: float | None = None,
    end_s: float | None = None,
) -> tuple[list[Event], list[MinuteMetrics]]:
    """The wearer's events and minutes in [start_s, end_s), in time order."""
    where = _where(wearer_id, start_s, end_s)
    # `where` is built from a checked pseudonym and numbers only
    minute_rows = influx.query(f'SELECT * FROM "{MINUTE}" WHERE {where}')  # noqa: S608
    event_rows = influx.query(f'SELECT * FROM "{EVENT}" WHERE {where}')  # noqa: S608
    minutes = [minute_from_row(r) for r in minute_rows]
    events = [event_from_row(r) for r in event_rows]
    events.sort(key=lambda e: (e.end_s, e.start_s, e.kind.value))
    return events, minutes


def wearers(influx: InfluxClient) -> list[str]:
    """Every wearer with minutes in the database."""
    rows = influx.query(f'SHOW TAG VALUES FROM "{MINUTE}" WITH KEY = "wearer"')
    return sorted(str(r["value"]) for r in rows)


def decisions(
    influx: InfluxClient,
    *,
    wearer_id: str | None = None,
    team: str | None = None,
    start_s: float,
    end_s: float,
) -> list[Event]:
    """The nudge decision points (`nudge_decision` events) of one wearer, one team or everyone
    in [start_s, end_s), in time order."""
    clauses = ["\"kind\" = 'nudge_decision'"]
    if wearer_id is not None:
        clauses.append(f"\"wearer\" = '{check_id(wearer_id, what='wearer id')}'")
    if team is not None:
        clauses.append(f"\"team\" = '{check_id(team, what='team')}'")
    clauses += [f"time >= {round(start_s * 1000)}ms", f"time < {round(end_s * 1000)}ms"]
    # every clause is a checked identifier or a number
    rows = influx.query(f'SELECT * FROM "{EVENT}" WHERE {" AND ".join(clauses)}')  # noqa: S608
    return sorted((event_from_row(r) for r in rows), key=lambda e: (e.start_s, e.wearer_id))
