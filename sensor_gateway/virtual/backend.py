"""A bleak backend over Bumble: `BleakScanner(backend=...)` and `BleakClient(backend=...)`.

Each backend class is bound to one `VirtualAdapter` (a Bumble central on the virtual link) by
`scanner_backend(adapter)` / `client_backend(adapter)`. The gateway only ever sees bleak's API.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from bleak.args import SizedBuffer
from bleak.assigned_numbers import CharacteristicPropertyName
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient, NotifyCallback
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, AdvertisementDataCallback, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakDeviceNotFoundError, BleakError
from bumble.core import AdvertisingData, BaseBumbleError
from bumble.device import Peer
from bumble.gatt import Characteristic

if TYPE_CHECKING:
    from .radio import VirtualAdapter

log = logging.getLogger(__name__)
MTU = 247
_PROPERTIES: dict[Characteristic.Properties, CharacteristicPropertyName] = {
    Characteristic.Properties.READ: "read",
    Characteristic.Properties.WRITE: "write",
    Characteristic.Properties.WRITE_WITHOUT_RESPONSE: "write-without-response",
    Characteristic.Properties.NOTIFY: "notify",
    Characteristic.Properties.INDICATE: "indicate",
}


def advertisement(adv: Any) -> tuple[str, str | None, list[str], AdvertisementData]:
    """(address, name, service UUIDs, bleak's record) of a Bumble advertisement."""
    name: str | None = None
    uuids: list[str] = []
    manufacturer: dict[int, bytes] = {}
    for kind, value in adv.data.ad_structures:
        if kind in (AdvertisingData.COMPLETE_LOCAL_NAME, AdvertisingData.SHORTENED_LOCAL_NAME):
            name = bytes(value).decode(errors="replace")
        elif kind in (
            AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
            AdvertisingData.INCOMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
        ):
            raw = bytes(value)
            uuids += [
                u
                for i in range(0, len(raw) - 15, 16)
                if (u := _uuid128(raw[i : i + 16])) not in uuids
            ]
        elif kind == AdvertisingData.MANUFACTURER_SPECIFIC_DATA and len(value) >= 2:
            manufacturer[int.from_bytes(bytes(value)[:2], "little")] = bytes(value)[2:]
    address = str(adv.address).split("/")[0]
    data = AdvertisementData(
        local_name=name,
        manufacturer_data=manufacturer,
        service_data={},
        service_uuids=uuids,
        tx_power=None,
        rssi=int(adv.rssi),
        platform_data=(adv,),
    )
    return address, name, uuids, data


def uuid_str(uuid: Any) -> str:
    """A Bumble UUID as bleak spells it: 128 bits, lower case, with dashes."""
    return _uuid128(uuid.to_bytes(force_128=True))


def _uuid128(little_endian: bytes) -> str:
    h = little_endian[::-1].hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class BumbleScanner(BaseBleakScanner):
    """Scanning on a virtual adapter; several scanners share it by reference counting."""

    adapter: ClassVar[VirtualAdapter]

    def __init__(
        self,
        detection_callback: AdvertisementDataCallback | None,
        service_uuids: list[str] | None,
        scanning_mode: str = "active",
        **kwargs: Any,
    ) -> None:
        super().__init__(detection_callback, service_uuids)
        self._remove: Callable[[], None] | None = None

    async def start(self) -> None:
        self.seen_devices = {}
        self._remove = self.adapter.listen(self._on_advertisement)
        await self.adapter.acquire_scan()

    async def stop(self) -> None:
        if self._remove is not None:
            self._remove()
            self._remove = None
            await self.adapter.release_scan()

    def _on_advertisement(self, adv: Any) -> None:
        address, name, uuids, data = advertisement(adv)
        if not self.is_allowed_uuid(uuids):
            return
        device = self.create_or_update_device(address, address, name, self.adapter, data)
        self.call_detection_callbacks(device, data)


class BumbleClient(BaseBleakClient):
    """A GATT client on a virtual adapter."""

    adapter: ClassVar[VirtualAdapter]

    def __init__(
        self,
        address_or_ble_device: BLEDevice | str,
        *,
        disconnected_callback: Callable[[], None] | None = None,
        timeout: float = 10.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            address_or_ble_device, disconnected_callback=disconnected_callback, timeout=timeout
        )
        self._connection: Any = None
        self._closing = False
        self._name = (
            address_or_ble_device.name if isinstance(address_or_ble_device, BLEDevice) else None
        ) or self.address

    @property
    def name(self) -> str:
        return self._name

    @property
    def mtu_size(self) -> int:
        return int(self._connection.att_mtu) if self._connection is not None else 23

    @property
    def is_connected(self) -> bool:
        return self._connection is not None

    async def connect(self, pair: bool, **kwargs: Any) -> None:
        timeout = float(kwargs.get("timeout", self._timeout))
        try:
            connection = await self.adapter.connect(self.address, timeout=timeout)
        except (TimeoutError, BaseBumbleError) as err:
            raise BleakDeviceNotFoundError(self.address, f"cannot connect: {err!r}") from None
        self._connection, self._closing = connection, False
        connection.on(connection.EVENT_DISCONNECTION, self._on_disconnection)
        try:
            peer = Peer(connection)
            await peer.request_mtu(MTU)
            await peer.discover_services()
            await peer.discover_characteristics()
            self.services = self._collection(peer)
        except (TimeoutError, BaseBumbleError) as err:
            await self.disconnect()
            raise BleakError(f"service discovery failed: {err!r}") from None

    def _collection(self, peer: Peer) -> BleakGATTServiceCollection:
        collection = BleakGATTServiceCollection()
        for proxy in peer.services:
            service = BleakGATTService(proxy, proxy.handle, uuid_str(proxy.uuid))
            collection.add_service(service)
            for char in proxy.characteristics:
                props = [v for flag, v in _PROPERTIES.items() if char.properties & flag]
                collection.add_characteristic(
                    BleakGATTCharacteristic(
                        char,
                        char.handle,
                        uuid_str(char.uuid),
                        props,
                        lambda: MTU - 3,
                        service,
                    )
                )
        return collection

    def _on_disconnection(self, reason: int) -> None:
        self._connection = None
        if not self._closing and self._disconnected_callback is not None:
            self._disconnected_callback()

    async def disconnect(self) -> None:
        connection, self._closing = self._connection, True
        if connection is None:
            return
        try:
            await connection.disconnect()
        except BaseBumbleError as err:
            log.debug("disconnect address=%s: %r", self.address, err)
        self._connection = None

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("virtual sensors need no pairing")

    async def unpair(self) -> None:
        raise NotImplementedError("virtual sensors need no pairing")

    def _proxy(self, characteristic: BleakGATTCharacteristic) -> Any:
        if self._connection is None:
            raise BleakError("Not connected")
        return characteristic.obj

    async def read_gatt_char(
        self, characteristic: BleakGATTCharacteristic, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        return bytearray(await self._io(self._proxy(characteristic).read_value()))

    async def write_gatt_char(
        self, characteristic: BleakGATTCharacteristic, data: SizedBuffer, response: bool
    ) -> None:
        proxy = self._proxy(characteristic)
        await self._io(proxy.write_value(bytes(data), with_response=response))

    async def start_notify(
        self, characteristic: BleakGATTCharacteristic, callback: NotifyCallback, **kwargs: Any
    ) -> None:
        proxy = self._proxy(characteristic)
        await self._io(proxy.subscribe(lambda value: callback(bytearray(value))))

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        if self._connection is not None:
            await self._io(self._proxy(characteristic).unsubscribe())

    async def read_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, *, use_cached: bool = False, **kwargs: Any
    ) -> bytearray:
        raise BleakError("virtual sensors expose no descriptors through this backend")

    async def write_gatt_descriptor(
        self, descriptor: BleakGATTDescriptor, data: SizedBuffer
    ) -> None:
        raise BleakError("virtual sensors expose no descriptors through this backend")

    async def _io(self, operation: Any) -> Any:
        try:
            async with asyncio.timeout(self._timeout):
                return await operation
        except (TimeoutError, BaseBumbleError) as err:
            raise BleakError(f"GATT operation failed on {self.address}: {err!r}") from None


def scanner_backend(adapter: VirtualAdapter) -> type[BaseBleakScanner]:
    """A scanner backend class bound to `adapter`."""
    return type("BumbleScanner", (BumbleScanner,), {"adapter": adapter})


def client_backend(adapter: VirtualAdapter) -> type[BaseBleakClient]:
    """A client backend class bound to `adapter`."""
    return type("BumbleClient", (BumbleClient,), {"adapter": adapter})
