"""InfluxQL for the Grafana panels, built from a few parts so that every team query is gated.

Conventions that the tests rely on:

- Names from the schema (measurements, fields, tags) are always double-quoted; aliases of
  computed columns are bare lowercase words. `schema_names()` lists the quoted names of a query.
- Grafana fills in `$timeFilter`, `$__interval` and the dashboard variables `$team`, `$site`,
  `$wearer`, `$gateway` and `$tz` (see `dashboards.boards.panels.interpolate`).
- **Privacy.** A team aggregate is computed per wearer first, then across wearers together with
  the number of wearers it covers, and the outer query keeps only groups of at least
  `min_group` wearers (`gated`). Smaller groups are not hidden by the panel: InfluxDB never
  returns them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from analytics.effect import Z95

MIN_GROUP_SIZE: Final = 5  # wearers an aggregate must cover before any dashboard shows it

TIME: Final = "$timeFilter"
TZ: Final = "tz('${tz:raw}')"  # a time zone name: regex-escaping its '/' would break it
SCOPE: Final = '"team" =~ /^$team$/ AND "site" =~ /^$site$/'
WEARER: Final = '"wearer" =~ /^$wearer$/'
GATEWAY: Final = '"gateway" =~ /^$gateway$/'
GATE_MARK: Final = "wearers >= "  # the outer filter every gated query ends with

_QUOTED = re.compile(r'"([^"]+)"')


def schema_names(query: str) -> set[str]:
    """The double-quoted identifiers of `query` (measurements, fields and tags).

    >>> sorted(schema_names('SELECT sum("sitting_s") AS s FROM "minute" WHERE "team" = \\'a\\''))
    ['minute', 'sitting_s', 'team']
    """
    return set(_QUOTED.findall(query))


def merge(*parts: str) -> str:
    """Subqueries as one source, `(a), (b)`, for aggregates that combine their columns.

    Measured with InfluxDB 1.6: without GROUP BY time, the column of a `count()` in any part but
    the first comes back empty, so put a `count()` first (the dashboard tests catch this).
    """
    return ", ".join(f"({p})" for p in parts)


def measurements(query: str) -> set[str]:
    """The measurements a query reads (`FROM "name"`)."""
    return set(re.findall(r'FROM "([^"]+)"', query))


def where(*clauses: str) -> str:
    return " AND ".join(c for c in clauses if c)


def kind(name: str) -> str:
    """The condition selecting one kind of event."""
    return f"\"kind\" = '{name}'"


def select(
    columns: str,
    source: str,
    *,
    conditions: Sequence[str] = (),
    every: str | None = None,
    by: Sequence[str] = (),
    fill: str | None = None,
    tz: bool = False,
) -> str:
    """One SELECT statement. `source` is a quoted measurement or parenthesised subqueries."""
    sql = f"SELECT {columns} FROM {source} WHERE {where(TIME, *conditions)}"  # noqa: S608
    groups = ([f"time({every})"] if every else []) + list(by)
    if groups:
        sql += " GROUP BY " + ", ".join(groups)
    if fill is not None:
        sql += f" fill({fill})"
    if tz:
        sql += f" {TZ}"
    return sql


def per_wearer(columns: str, measurement: str, *conditions: str, every: str | None = "1d") -> str:
    """Each wearer's own value per time bucket (or over the whole range if `every` is None).

    Always grouped by `"team"` too, so that the next level can group by it.
    """
    return select(
        columns,
        f'"{measurement}"',
        conditions=[SCOPE, *conditions],
        every=every,
        by=['"team"', '"wearer"'],
        fill="none",
        tz=every is not None,
    )


@dataclass(frozen=True, slots=True)
class Gate:
    """How a team aggregate is gated: the subquery column that counts wearers, and the minimum."""

    count: str  # a column each per-wearer row has, e.g. `s`
    min_group: int = MIN_GROUP_SIZE


def gated(
    parts: Sequence[str],
    aggregates: Sequence[tuple[str, str]],
    gate: Gate,
    *,
    every: str | None = "1d",
    by_team: bool = True,
) -> str:
    """Aggregate per-wearer rows across wearers and keep only groups of `gate.min_group` or more.

    `parts` are per-wearer subqueries (from `per_wearer`); `aggregates` are (expression, alias)
    pairs computed across wearers, per team if `by_team`, per time bucket if `every`.
    """
    columns = ", ".join(f"{expr} AS {alias}" for expr, alias in aggregates)
    sources = merge(*parts)
    middle = select(
        f"{columns}, count({gate.count}) AS wearers",
        sources,
        every=every,
        by=['"team"'] if by_team else [],
        fill="0",  # a bucket or aggregate with no data is 0 (and 0 wearers), not missing
        tz=every is not None,
    )
    outputs = ", ".join(alias for _, alias in aggregates)
    return select(
        outputs,
        f"({middle})",
        conditions=[f"{GATE_MARK}{gate.min_group}"],
        by=['"team"'] if by_team else [],
    )


def hour_of_day(hour: int, *, min_group: int = MIN_GROUP_SIZE) -> str:
    """Mean sitting minutes per wearer in one hour of the day (local to `$tz`), one row per day.

    InfluxQL cannot group by hour of day, so this takes the first hourly bucket of days that start
    at `hour` (`GROUP BY time(1d, <hour>h)`) and moves it back to its calendar day. Hours with
    fewer than `min_group` wearers are filled with -1 so that the first bucket is always `hour`,
    and then dropped.
    """
    if not 0 <= hour < 24:
        raise ValueError(f"hour must be in 0..23, got {hour}")
    wearer_hours = per_wearer('sum("sitting_s") / 60.0 AS s', "minute", every="1h")
    hourly = select(
        "mean(s) AS m, count(s) AS wearers",
        f"({wearer_hours})",
        every="1h",
        fill="-1",
        tz=True,
    )
    shifted = select(
        "first(m) AS m, first(wearers) AS wearers",
        f"({hourly})",
        every=f"1d, {hour}h",
        tz=True,
    )
    return select(
        "max(m) AS sitting_min",
        f"({shifted})",
        conditions=[f"{GATE_MARK}{min_group}"],
        every="1d",
        fill="none",
        tz=True,
    )


def wilson(breaks: str, n: str, *, z: float = Z95) -> tuple[str, str]:
    """InfluxQL expressions of the Wilson score interval of `breaks` out of `n` (expressions,
    e.g. `sum(r)`), as `analytics.effect.wilson` computes it (for n > 0)."""
    zz = z * z
    spread = f"sqrt({breaks} * 1.0 * ({n} - {breaks}) / ({n}) + {zz / 4!r})"
    centre = f"({breaks} + {zz / 2!r}) / ({n} + {zz!r})"
    half = f"{z!r} * {spread} / ({n} + {zz!r})"
    return f"{centre} - {half}", f"{centre} + {half}"
