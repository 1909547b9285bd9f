"""What InfluxDB holds about one wearer, and removing it (a data subject's erasure).

Every measurement that holds wearer data tags it with `wearer` (dashboards/schema.py: `minute`,
`event`, `device`), so one tag predicate reaches all of it:

- InfluxDB 1.x: `DROP SERIES WHERE "wearer" = '<id>'` removes the points and the series from
  every measurement and retention policy of the database;
- InfluxDB 2.x: the delete API (`/api/v2/delete`) with the predicate `wearer="<id>"` over all
  time, in the configured bucket (InfluxQL's DROP and DELETE are not available there).

`held` counts the points by measurement with InfluxQL, which both versions answer; after an
erasure it must be empty.
"""

from __future__ import annotations

from typing import Final

from analytics.wire import check_id

from .influx import InfluxClient, InfluxRejected, InfluxUnavailable

ALL_TIME: Final = ("1970-01-01T00:00:00Z", "2262-04-11T00:00:00Z")  # InfluxDB's whole range


def held(influx: InfluxClient, wearer_id: str) -> dict[str, int]:
    """Points held about the wearer, by measurement (none: an empty dict)."""
    check_id(wearer_id, what="wearer id")
    # a checked pseudonym only
    rows = influx.query(f"SELECT count(*) FROM /.*/ WHERE \"wearer\" = '{wearer_id}'")  # noqa: S608
    out: dict[str, int] = {}
    for row in rows:
        counts = [int(v) for k, v in row.items() if k.startswith("count_") and v is not None]
        points = max(counts, default=0)  # count(*) counts each field: a point has the most
        if points:
            out[str(row["_measurement"])] = points
    return out


def erase(influx: InfluxClient, wearer_id: str) -> None:
    """Remove every point tagged with the wearer, from every measurement."""
    check_id(wearer_id, what="wearer id")
    if influx.settings.api == "v1":
        influx.query(f"DROP SERIES WHERE \"wearer\" = '{wearer_id}'", method="POST")
        return
    _delete_v2(influx, f'wearer="{wearer_id}"')


def _delete_v2(influx: InfluxClient, predicate: str) -> None:
    from influxdb_client import InfluxDBClient
    from influxdb_client.rest import ApiException

    settings = influx.settings
    client = InfluxDBClient(
        url=influx.url,
        token=settings.token_value() or "",
        org=settings.org,
        timeout=int(settings.timeout_s * 1000),
    )
    try:
        client.delete_api().delete(
            ALL_TIME[0], ALL_TIME[1], predicate, bucket=settings.database, org=settings.org
        )
    except ApiException as err:
        if err.status is not None and 400 <= err.status < 500:
            raise InfluxRejected(err.status, str(err.reason)) from None
        raise InfluxUnavailable(f"InfluxDB at {influx.url}: HTTP {err.status}") from None
    except OSError as err:
        raise InfluxUnavailable(f"cannot reach InfluxDB at {influx.url}: {err}") from None
    finally:
        client.close()
