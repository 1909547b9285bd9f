"""One sensor's link: find it, connect (bleak + bleak-retry-connector), start streaming, watch.

`SensorLink.events()` is an async iterator of what happens on the link: `Connected`, every
`Notification` (payload with its receive time on the stream's axis) and `Lost`. Behind it runs
one visible retry loop: scan until the sensor advertises, connect under the adapter's lock,
enable notifications, send the profile's start writes, then hand out notifications until the
link drops or the watchdog sees none for `watchdog_s` (a stalled sensor that still looks
connected), disconnect, wait a capped jittered backoff (`posture.backoff.backoff_s`), repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

from bleak import BleakClient
from bleak.exc import BleakError
from bleak_retry_connector import BleakClientWithServiceCache, establish_connection

from transport.backoff import backoff_s

from .profiles import BATTERY_LEVEL_UUID, Profile, Write
from .radio import Radio
from .scanning import Finder
from .timebase import TimeBase

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LinkSettings:
    """Timeouts (real seconds) for one sensor link."""

    watchdog_s: float = 5.0  # no notification for this long while connected: reconnect
    scan_timeout_s: float = 30.0  # give up one search after this long (then back off)
    connect_attempts: int = 3  # bleak-retry-connector's attempts per connection
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    battery_every_s: float = 300.0


@dataclass(frozen=True, slots=True)
class Connected:
    address: str
    name: str | None
    rssi_dbm: int | None
    battery_pct: int | None


@dataclass(frozen=True, slots=True)
class Notification:
    received_s: float  # stream time when it arrived
    data: bytes


@dataclass(frozen=True, slots=True)
class Lost:
    reason: str  # "disconnected", "stalled", "failed: ..."


LinkEvent = Connected | Notification | Lost
LINK_ERRORS = (BleakError, TimeoutError, OSError, EOFError)


def describe(err: BaseException, settings: LinkSettings) -> str:
    """A one-line reason for a failed connection attempt."""
    if isinstance(err, TimeoutError) and not str(err):
        return f"not seen advertising within {settings.scan_timeout_s:g} s"
    return str(err) or type(err).__name__


class SensorLink:
    """The link to one configured sensor (see the module docstring)."""

    def __init__(
        self,
        address: str,
        profile: Profile,
        *,
        radio: Radio,
        finder: Finder,
        timebase: TimeBase | None = None,
        settings: LinkSettings | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.address = address
        self.profile = profile
        self.radio = radio
        self.finder = finder
        self.timebase = timebase or TimeBase()
        self.settings = settings or LinkSettings()
        self.rng = rng or random.Random()
        self.client: BleakClient | None = None
        self.connects = 0
        self.stalls = 0
        self.failures = 0
        self.battery_pct: int | None = None
        self.control_answers: list[bytes] = []  # what control points answered (e.g. Polar PMD)
        self._queue: asyncio.Queue[Notification | None] | None = None

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.is_connected

    @property
    def rssi_dbm(self) -> int | None:
        return self.finder.rssi(self.address)

    async def events(self) -> AsyncIterator[LinkEvent]:
        """Everything that happens on the link, forever (cancel the task to stop)."""
        attempt = 0
        while True:
            async with self.finder.searching(self.address):  # scan while this one is missing
                client: BleakClient | None = None
                while client is None:
                    try:
                        client = await self._connect()
                    except LINK_ERRORS as err:
                        self.failures += 1
                        reason = describe(err, self.settings)
                        log.warning("connect failed sensor=%s: %s", self.address, reason)
                        yield Lost(f"failed: {reason}")
                        await self._backoff(attempt)
                        attempt += 1
            streamed = False
            reason = "disconnected"
            try:
                async for event in self._session(client):
                    if isinstance(event, Lost):
                        reason = event.reason
                        break
                    streamed = streamed or isinstance(event, Notification)
                    yield event
            finally:
                await self._disconnect(client)
            yield Lost(reason)
            if streamed:
                attempt = 0
            await self._backoff(attempt)
            attempt += 1

    async def _backoff(self, attempt: int) -> None:
        s = self.settings
        await asyncio.sleep(
            backoff_s(attempt, base_s=s.backoff_base_s, cap_s=s.backoff_cap_s, rng=self.rng)
        )

    async def _connect(self) -> BleakClient:
        seen = await self.finder.find(self.address, timeout_s=self.settings.scan_timeout_s)
        async with self.radio.connect_lock:
            client = await establish_connection(
                BleakClientWithServiceCache,
                seen.device,
                seen.name or self.address,
                disconnected_callback=self._on_disconnected,
                max_attempts=self.settings.connect_attempts,
                **self.radio.client_options(),
            )
        self.client = client
        self.connects += 1
        log.info("connected sensor=%s profile=%s", self.address, self.profile.name)
        return client

    async def _session(self, client: BleakClient) -> AsyncIterator[LinkEvent]:
        queue: asyncio.Queue[Notification | None] = asyncio.Queue()
        now = self.timebase.now
        self._queue = queue
        try:
            for uuid in self.profile.control_notify:
                await client.start_notify(uuid, self._on_control_answer)
            await client.start_notify(
                self.profile.data_uuid,
                lambda _c, data: queue.put_nowait(Notification(now(), bytes(data))),
            )
            await self.write(self.profile.start)
            self.battery_pct = await self._battery(client)
        except LINK_ERRORS as err:
            yield Lost(f"failed: {err}")
            return
        if not client.is_connected:
            yield Lost("disconnected")
            return
        yield Connected(self.address, client.name, self.rssi_dbm, self.battery_pct)
        loop = asyncio.get_running_loop()
        battery_due = loop.time() + self.settings.battery_every_s
        last_s = now()  # stream time of the last notification (or of the start)
        while True:
            try:
                async with asyncio.timeout(self.settings.watchdog_s):
                    item = await queue.get()
            except TimeoutError:
                if now() - last_s < self.settings.watchdog_s:
                    # a simulated clock held by its consumer (PacedTimeBase): the sensor had
                    # nothing to send; stalling would only hold the clock longer
                    continue
                self.stalls += 1
                log.warning("no data for %gs sensor=%s", self.settings.watchdog_s, self.address)
                yield Lost("stalled")
                return
            if item is None:
                yield Lost("disconnected")
                return
            last_s = item.received_s
            yield item
            if loop.time() > battery_due:
                battery_due = loop.time() + self.settings.battery_every_s
                self.battery_pct = await self._battery(client)

    def _on_control_answer(self, _char: object, data: bytearray) -> None:
        self.control_answers.append(bytes(data))
        log.debug("control answer sensor=%s data=%s", self.address, bytes(data).hex())

    def _on_disconnected(self, _client: BleakClient) -> None:
        if self._queue is not None:
            self._queue.put_nowait(None)

    async def write(self, writes: tuple[Write, ...]) -> bool:
        """Send `writes` if connected; False if not connected or the link failed."""
        client = self.client
        if client is None or not client.is_connected:
            return False
        try:
            for w in writes:
                await client.write_gatt_char(w.char_uuid, w.data, response=w.response)
        except LINK_ERRORS as err:
            log.warning("write failed sensor=%s error=%s", self.address, err)
            return False
        return True

    async def _battery(self, client: BleakClient) -> int | None:
        if client.services.get_characteristic(BATTERY_LEVEL_UUID) is None:
            return None
        try:
            level = await client.read_gatt_char(BATTERY_LEVEL_UUID)
        except LINK_ERRORS:
            return self.battery_pct
        return int(level[0]) if level and level[0] <= 100 else None

    async def _disconnect(self, client: BleakClient) -> None:
        self.client, self._queue = None, None
        with contextlib.suppress(*LINK_ERRORS):
            await asyncio.shield(client.disconnect())
