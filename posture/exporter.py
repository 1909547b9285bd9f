"""The optional HTTP port of the gateway and the recorder: `/healthz` and Prometheus `/metrics`.

`[http] port` (or `POSTURE_HTTP__PORT`) turns it on; it binds `[http] host` (127.0.0.1 unless
set). One port per process: `posture run` serves the gateway's and the recorder's parts on it.

- `GET /healthz`: 200 and `{"ok": true, ...}` while every part is healthy, 503 with the reasons
  (`{"ok": false, "reasons": ["recorder: broker disconnected"], ...}`) while one is not.
- `GET /metrics`: the Prometheus text format (prometheus-client), read from the services' own
  counters at scrape time, so their hot paths carry no instrumentation.

What each part reads, and from which thread:

- the recorder: its counters (`RecorderStats`), its latest health report (held messages, their
  lag), whether paho is connected, and the InfluxDB client's write latencies; plain reads of
  values its own threads write.
- the gateway: each sensor's health (samples, losses by reason, connection, reconnects) and the
  loop's lag are taken on the radio loop itself (`call_soon_threadsafe`): a scrape that gets no
  answer within `LOOP_TIMEOUT_S` means the loop is stuck, which `/healthz` reports. The outbox
  (thread-safe) and the publisher's connection are read directly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analytics.records import DeviceHealth
    from dashboards.influx import InfluxClient
    from dashboards.recorder import Recorder
    from sensor_gateway.gateway import Gateway
    from sensor_gateway.publisher import MqttPublisher

log = logging.getLogger(__name__)

LOOP_TIMEOUT_S = 2.0  # a radio loop that does not answer within this is stuck


@dataclass(frozen=True, slots=True)
class Health:
    """A part's health right now: healthy or not, why not, and what it looked at."""

    ok: bool
    reasons: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Part:
    """What one service contributes to the port: a probe and the metrics it yields."""

    name: str
    probe: Callable[[], Health]
    metrics: Callable[[], Iterator[Any]]  # prometheus-client metric families


class HealthPort:
    """The HTTP port of one process; raises OSError from `start` if it cannot bind."""

    def __init__(self, host: str, port: int) -> None:
        from prometheus_client import CollectorRegistry

        self.host, self.requested = host, port
        self.parts: list[Part] = []
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self)
        self._server: ThreadingHTTPServer | None = None

    def add(self, part: Part) -> None:
        self.parts.append(part)

    def collect(self) -> Iterator[Any]:  # prometheus-client's collector interface
        for part in self.parts:
            yield from part.metrics()

    def health(self) -> tuple[bool, dict[str, Any]]:
        body: dict[str, Any] = {"ok": True, "reasons": []}
        for part in self.parts:
            try:
                health = part.probe()
            except Exception as err:  # a probe that fails is an unhealthy part
                log.warning("health probe %s failed: %s", part.name, err)
                health = Health(False, (f"probe failed: {err}",))
            body["ok"] = body["ok"] and health.ok
            body["reasons"] += [f"{part.name}: {reason}" for reason in health.reasons]
            body[part.name] = health.details
        return body["ok"], body

    @property
    def port(self) -> int:
        assert self._server is not None, "not started"
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._server = ThreadingHTTPServer((self.host, self.requested), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="http-port", daemon=True).start()
        log.info("http port listening host=%s port=%d", self.host, self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(port: HealthPort) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/healthz":
                ok, body = port.health()
                status = HTTPStatus.OK if ok else HTTPStatus.SERVICE_UNAVAILABLE
                self._send(status, json.dumps(body).encode(), "application/json")
            elif path == "/metrics":
                from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

                self._send(HTTPStatus.OK, generate_latest(port.registry), CONTENT_TYPE_LATEST)
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found: try /healthz or /metrics\n")

        def _send(self, status: HTTPStatus, body: bytes, kind: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("http " + format, *args)

    return Handler


# -- the recorder ---------------------------------------------------------------------------------


def recorder_part(recorder: Recorder, influx: InfluxClient, *, stale_after_s: float) -> Part:
    """Unhealthy while disconnected from the broker, while a received message has waited longer
    than `stale_after_s` (InfluxDB refusing or away), or when its health reports stopped."""

    def probe() -> Health:
        reasons = []
        health = recorder.last_health
        if not recorder.connected:
            reasons.append("broker disconnected")
        if health is None:
            reasons.append("not subscribed yet")
        else:
            if health.lag_s > stale_after_s:
                reasons.append(f"a message has waited {health.lag_s:.0f} s to be written")
            age = time.time() - health.t_s
            if age > 3 * recorder.settings.health_interval_s:
                reasons.append(f"no health report for {age:.0f} s: the loop is stuck")
        details: dict[str, Any] = {"connected": recorder.connected}
        if health is not None:
            details |= {"held": health.held, "lag_s": round(health.lag_s, 3)}
        return Health(not reasons, tuple(reasons), details)

    def metrics() -> Iterator[Any]:
        from prometheus_client.core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        s = recorder.stats
        for name, value, text in (
            ("received", s.received, "Messages to record taken from the subscription"),
            ("written", s.written_messages, "Messages whose points are in InfluxDB"),
            ("rejected", s.rejected, "Messages sent to the dead-letter topic"),
            ("dropped", s.dropped, "QoS 0 messages dropped while the recorder was full"),
        ):
            yield CounterMetricFamily(f"posture_recorder_messages_{name}", text, value=value)
        yield CounterMetricFamily(
            "posture_recorder_points_written", "Points written to InfluxDB", value=s.written_points
        )
        yield CounterMetricFamily(
            "posture_recorder_write_retries", "Writes retried", value=s.write_retries
        )
        yield CounterMetricFamily(
            "posture_recorder_reconnects", "Reconnects to the broker", value=s.reconnects
        )
        yield GaugeMetricFamily(
            "posture_recorder_connected", "1 while connected to the broker",
            value=int(recorder.connected),
        )  # fmt: skip
        health = recorder.last_health
        if health is not None:
            yield GaugeMetricFamily(
                "posture_recorder_held_messages",
                "Messages received and not yet written or dead-lettered (last report)",
                value=health.held,
            )
            yield GaugeMetricFamily(
                "posture_recorder_lag_seconds",
                "How long the oldest held message has waited (last report)",
                value=health.lag_s,
            )
        latency = influx.write_latency.snapshot()
        histogram = HistogramMetricFamily(
            "posture_recorder_write_seconds", "Duration of successful writes to InfluxDB"
        )
        histogram.add_metric([], latency.buckets, sum_value=latency.sum_s)
        yield histogram

    return Part("recorder", probe, metrics)


# -- the gateway ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _LoopView:
    """What the radio loop reported when asked, and how long it took to answer."""

    sensors: list[DeviceHealth]
    max_lag_s: float
    answered_in_s: float


class GatewayView:
    """The gateway's part, fed once the gateway runs (`attach`, serve's `started`)."""

    def __init__(self, publisher: MqttPublisher, *, stale_after_s: float) -> None:
        self.publisher = publisher
        self.stale_after_s = stale_after_s
        self._gateway: Gateway | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, gateway: Gateway) -> None:
        """Called on the radio loop once the gateway runs."""
        self._gateway, self._loop = gateway, asyncio.get_running_loop()

    def _ask_loop(self) -> _LoopView | None:
        gateway, loop = self._gateway, self._loop
        if gateway is None or loop is None:
            return None
        asked = time.monotonic()
        answer: Future[_LoopView] = Future()

        def on_loop() -> None:
            sensors = [gateway.health_of(a) for a in gateway.sensors]
            lag = gateway.max_loop_lag_ms / 1000.0
            answer.set_result(_LoopView(sensors, lag, time.monotonic() - asked))

        loop.call_soon_threadsafe(on_loop)
        try:
            return answer.result(timeout=LOOP_TIMEOUT_S)
        except FutureTimeout:
            raise TimeoutError(f"the radio loop did not answer in {LOOP_TIMEOUT_S:g} s") from None

    def part(self) -> Part:
        return Part("gateway", self._probe, self._metrics)

    def _probe(self) -> Health:
        reasons = []
        if not self.publisher.connected:
            reasons.append("broker disconnected")
        if self.publisher.error is not None:
            reasons.append(f"the broker refused a message: {self.publisher.error}")
        depth = self.publisher.depth()
        if depth.oldest_s > self.stale_after_s:
            reasons.append(f"no recorder has confirmed a message for {depth.oldest_s:.0f} s")
        try:
            view = self._ask_loop()
        except TimeoutError as err:
            return Health(False, (*reasons, str(err)), {"outbox": depth.messages})
        if view is None:
            reasons.append("not running yet")
        details: dict[str, Any] = {"outbox": depth.messages, "outbox_oldest_s": depth.oldest_s}
        if view is not None:
            details |= {
                "sensors_connected": sum(h.connected for h in view.sensors),
                "sensors": len(view.sensors),
                "loop_answered_in_s": round(view.answered_in_s, 4),
            }
        return Health(not reasons, tuple(reasons), details)

    def _metrics(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        depth = self.publisher.depth()
        yield GaugeMetricFamily(
            "posture_gateway_outbox_messages",
            "Messages stored and not yet confirmed (in InfluxDB, or by the broker)",
            value=depth.messages,
        )
        yield GaugeMetricFamily(
            "posture_gateway_outbox_bytes", "Payload bytes in the outbox", value=depth.bytes
        )
        yield GaugeMetricFamily(
            "posture_gateway_outbox_oldest_seconds",
            "Age of the oldest unconfirmed message",
            value=depth.oldest_s,
        )
        yield GaugeMetricFamily(
            "posture_gateway_broker_connected", "1 while connected to the broker",
            value=int(self.publisher.connected),
        )  # fmt: skip
        try:
            view = self._ask_loop()
        except TimeoutError:
            return  # /healthz says why; stale numbers would mislead
        if view is None:
            return
        yield GaugeMetricFamily(
            "posture_gateway_loop_lag_seconds",
            "How long the radio loop took to answer this scrape",
            value=view.answered_in_s,
        )
        yield GaugeMetricFamily(
            "posture_gateway_loop_lag_max_seconds",
            "The radio loop's longest delay since the start",
            value=view.max_lag_s,
        )
        labels = ["wearer", "placement", "sensor"]
        samples = CounterMetricFamily(
            "posture_gateway_samples", "Samples received from the sensor", labels=labels
        )
        lost = CounterMetricFamily(
            "posture_gateway_samples_lost",
            "Samples known to be lost, by reason (gap, disconnected, queue)",
            labels=[*labels, "reason"],
        )
        reconnects = CounterMetricFamily(
            "posture_gateway_reconnects", "Reconnects to the sensor", labels=labels
        )
        connected = GaugeMetricFamily(
            "posture_gateway_sensor_connected", "1 while the sensor is connected", labels=labels
        )
        for h in view.sensors:
            key = [h.wearer_id, h.placement.value, h.sensor_id]
            samples.add_metric(key, h.samples)
            for reason, count in sorted(h.lost_by.items()):
                lost.add_metric([*key, reason], count)
            reconnects.add_metric(key, h.reconnects)
            connected.add_metric(key, int(h.connected))
        yield from (samples, lost, reconnects, connected)
