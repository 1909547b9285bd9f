"""Writing line protocol to InfluxDB and reading it back with InfluxQL.

InfluxDB 1.x is written through its v1 `/write` endpoint; 2.x and 3.x through influxdb-client
(`/api/v2/write`). Queries use InfluxQL (`/query`), which every version answers (2.x through
DBRP mappings), so one set of dashboards serves them all.

Errors come in two kinds: `InfluxUnavailable` (unreachable, 5xx: try again later) and
`InfluxRejected` (4xx). Of the refusals, only `POINT_ERRORS` are about the points themselves
(bad line protocol or field type: 400, body too large: 413, unprocessable: 422); the others
(401, 403, 404, 429...) are about the server or our credentials, and retrying later can help.
`write_isolating` bisects a refused batch to find the points that are refused on their own.
"""

from __future__ import annotations

import bisect
import json
import logging
import re
import threading
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import urllib3

from dashboards.settings import InfluxSettings

log = logging.getLogger(__name__)
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
POINT_ERRORS: Final = frozenset({400, 413, 422})


@dataclass(frozen=True, slots=True)
class LatencySnapshot:
    buckets: list[tuple[str, int]]  # (upper bound in seconds or "+Inf", writes at or below it)
    sum_s: float


class Latency:
    """Durations of successful writes, counted in Prometheus-style cumulative buckets."""

    BOUNDS_S: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

    def __init__(self) -> None:
        self._counts = [0] * (len(self.BOUNDS_S) + 1)  # the last: above every bound
        self._sum_s = 0.0
        self._lock = threading.Lock()

    def observe(self, seconds: float) -> None:
        with self._lock:
            self._counts[bisect.bisect_left(self.BOUNDS_S, seconds)] += 1
            self._sum_s += seconds

    def snapshot(self) -> LatencySnapshot:
        with self._lock:
            counts, total = list(self._counts), self._sum_s
        cumulative, running = [], 0
        for bound, count in zip([*map(str, self.BOUNDS_S), "+Inf"], counts, strict=True):
            running += count
            cumulative.append((bound, running))
        return LatencySnapshot(cumulative, total)


class InfluxError(Exception):
    """A write or query that failed."""

    transient: bool = True


class InfluxUnavailable(InfluxError):
    """InfluxDB cannot be reached or answered with a server error: try again later."""


class InfluxRejected(InfluxError):
    """InfluxDB refused the request (4xx): retrying the same request will not help."""

    transient = False

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class InfluxClient:
    """One InfluxDB server and database (or bucket)."""

    def __init__(self, settings: InfluxSettings) -> None:
        if not _NAME.fullmatch(settings.database):
            raise ValueError(f"influx.database {settings.database!r} is not a plain name")
        self.settings = settings
        self.url = settings.url.rstrip("/")
        self._http = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=settings.timeout_s), retries=False, maxsize=2
        )
        self._headers: dict[str, str] = {}
        token = settings.token_value()
        if token:
            self._headers["Authorization"] = f"Token {token}"
        elif settings.username:
            password = settings.password_value() or ""
            self._headers.update(urllib3.make_headers(basic_auth=f"{settings.username}:{password}"))
        self._token = token or ""
        self._v2: Any = None
        self._v2_write: Any = None
        self.write_latency = Latency()

    def close(self) -> None:
        self._http.clear()
        if self._v2 is not None:
            self._v2.close()

    def __repr__(self) -> str:  # never shows credentials
        s = self.settings
        return f"InfluxClient(url={self.url!r}, database={s.database!r}, api={s.api})"

    # -- requests -----------------------------------------------------------------------------

    def _request(
        self, method: str, path: str, *, fields: dict[str, str], body: bytes | None = None
    ) -> Any:
        url = f"{self.url}{path}"
        try:
            if body is None:
                response = self._http.request(method, url, fields=fields, headers=self._headers)
            else:
                query = urllib.parse.urlencode(fields)
                headers = self._headers | {"Content-Type": "text/plain; charset=utf-8"}
                response = self._http.request(method, f"{url}?{query}", body=body, headers=headers)
        except urllib3.exceptions.HTTPError as err:
            raise InfluxUnavailable(
                f"cannot reach InfluxDB at {self.url}: {_reason(err)}"
            ) from None
        if response.status >= 500:
            text = _error_text(response.data)
            raise InfluxUnavailable(
                f"InfluxDB at {self.url} answered HTTP {response.status}: {text}"
            )
        if response.status >= 400:
            raise InfluxRejected(response.status, _error_text(response.data))
        return response

    def ping(self) -> str:
        """The server's version; raises `InfluxUnavailable` if it does not answer."""
        response = self._request("GET", "/ping", fields={})
        return str(response.headers.get("X-Influxdb-Version", "unknown"))

    def ensure_database(self) -> None:
        """Create the database (InfluxDB 1.x) if it does not exist, with the configured retention.

        InfluxDB 2.x and 3.x answer the v1 API too (a DBRP mapping reads a bucket as a database),
        but their buckets, mappings and retention are the operator's (docker-compose's init
        script): nothing is created there, so a write-only user is all the recorder needs.
        """
        if self.settings.api != "v1":
            return  # v2 buckets and DBRP mappings are created by the operator (docker-compose does)
        version = self.ping()
        if version.lstrip("v").split(".")[0] in ("2", "3"):
            log.info("influxdb %s: the bucket and its retention are the operator's", version)
            return
        db = self.settings.database
        self.query(f'CREATE DATABASE "{db}"', method="POST")
        if self.settings.retention:
            keep = self.settings.retention
            self.query(
                f'ALTER RETENTION POLICY "autogen" ON "{db}" DURATION {keep} DEFAULT', method="POST"
            )

    def write(self, lines: Sequence[str]) -> None:
        """Write line protocol lines (millisecond precision)."""
        if not lines:
            return
        started = time.monotonic()
        if self.settings.api == "v2":
            self._write_v2(lines)
        else:
            body = "\n".join(lines).encode()
            fields = {"db": self.settings.database, "precision": "ms"}
            self._request("POST", "/write", fields=fields, body=body)
        self.write_latency.observe(time.monotonic() - started)

    def _write_v2(self, lines: Sequence[str]) -> None:
        from influxdb_client import InfluxDBClient, WritePrecision
        from influxdb_client.client.write_api import SYNCHRONOUS
        from influxdb_client.rest import ApiException

        if self._v2 is None:
            # retries=False (its default): the recorder's own loop retries, with backoff
            self._v2 = InfluxDBClient(
                url=self.url,
                token=self._token,
                org=self.settings.org,
                timeout=int(self.settings.timeout_s * 1000),
            )
            self._v2_write = self._v2.write_api(write_options=SYNCHRONOUS)
        try:
            self._v2_write.write(
                bucket=self.settings.database, record=list(lines), write_precision=WritePrecision.MS
            )
        except ApiException as err:
            if err.status is not None and 400 <= err.status < 500:
                raise InfluxRejected(err.status, _error_text(err.body or b"")) from None
            raise InfluxUnavailable(f"InfluxDB at {self.url}: HTTP {err.status}") from None
        except (urllib3.exceptions.HTTPError, OSError) as err:
            raise InfluxUnavailable(
                f"cannot reach InfluxDB at {self.url}: {_reason(err)}"
            ) from None

    def query(self, influxql: str, *, method: str = "GET") -> list[dict[str, Any]]:
        """Rows of an InfluxQL query, each a dict of column -> value with the series tags merged in.

        Times are unix seconds (float). Raises `InfluxRejected` for a query InfluxDB refuses.
        """
        fields = {"db": self.settings.database, "q": influxql, "epoch": "ms"}
        response = self._request(method, "/query", fields=fields)
        payload = json.loads(response.data)
        rows: list[dict[str, Any]] = []
        for result in payload.get("results", []):
            if "error" in result:
                raise InfluxRejected(400, str(result["error"]))
            for series in result.get("series", []):
                tags = series.get("tags", {})
                for values in series.get("values", []):
                    row = dict(zip(series["columns"], values, strict=True)) | tags
                    row.setdefault("_measurement", series.get("name"))
                    if row.get("time") is not None:
                        row["time"] = row["time"] / 1000.0
                    rows.append(row)
        return rows


def write_isolating(influx: InfluxClient, lines: Sequence[str]) -> dict[int, str]:
    """Write `lines`; if InfluxDB refuses the batch for its points, bisect to find which.

    Returns the indexes of the lines refused on their own, with InfluxDB's reason; every other
    line is written (some possibly twice, which overwrites). A 413 (body too large) splits the
    batch the same way. Raises `InfluxUnavailable`, or `InfluxRejected` for a refusal that is
    not about points (the caller retries both later).
    """
    refused: dict[int, str] = {}

    def write(lo: int, hi: int) -> None:
        try:
            influx.write(lines[lo:hi])
            return
        except InfluxRejected as err:
            if err.status not in POINT_ERRORS:
                raise
            if hi - lo == 1:
                refused[lo] = str(err)
                return
        middle = (lo + hi) // 2
        write(lo, middle)
        write(middle, hi)

    if lines:
        write(0, len(lines))
    return refused


def _reason(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or err
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused"
    return text.split(": ", 1)[-1][:200]


def _error_text(data: bytes) -> str:
    try:
        payload = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return data[:200].decode(errors="replace").strip()
    if isinstance(payload, dict):
        return str(payload.get("error") or payload.get("message") or payload)[:300]
    return str(payload)[:300]
