"""The broker's acknowledgements of a client's QoS 1 messages, taken in order by their owner.

paho's network thread records each PUBACK (`on_publish`: call it from the client's own
`on_publish`), with its reason code. The client's owner `add`s what it publishes and takes what is
settled, oldest first (`settled`): a broker sends PUBACKs in the order of the PUBLISHes (MQTT
5.0, 4.6). Acknowledgements of messages the owner does not track (QoS 0 messages, fire-and-forget
publishes) are forgotten, so nothing grows.

Not `MQTTMessageInfo.is_published()`: it raises for a message queued while disconnected (rc
NO_CONN) even after paho delivered it, and calls a message the broker refused (an MQTT v5 PUBACK
reason such as "Not authorized" from its ACL) published.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

from paho.mqtt.reasoncodes import ReasonCode

T = TypeVar("T")


class Acks(Generic[T]):
    """Messages published and not yet acknowledged, in order, each with what its owner keeps.

    >>> acks: Acks[str] = Acks()
    >>> acks.add(1, "first"); acks.add(2, "second")
    >>> acks.acknowledged(2, ReasonCode(4, identifier=0))  # out of order: the first waits
    >>> list(acks.settled()), len(acks)
    ([], 2)
    >>> acks.acknowledged(1, ReasonCode(4, identifier=0))
    >>> [(item, reason.is_failure) for item, reason in acks.settled()], len(acks)
    ([('first', False), ('second', False)], 0)
    """

    def __init__(self) -> None:
        self._pending: deque[tuple[int, T]] = deque()
        self._acked: dict[int, ReasonCode] = {}  # written by paho's thread
        self._changed = threading.Condition()

    def __len__(self) -> int:
        return len(self._pending)

    def pending(self) -> list[T]:
        """What is still waiting for the broker, oldest first."""
        return [item for _mid, item in self._pending]

    def add(self, mid: int, item: T) -> None:
        """`item` was published as message `mid` (call this right after `publish`)."""
        self._pending.append((mid, item))

    def acknowledged(self, mid: int, reason: ReasonCode) -> None:
        """The broker answered message `mid` (paho's network thread)."""
        with self._changed:
            self._acked[mid] = reason
            self._changed.notify_all()

    def on_publish(
        self, _client: object, _userdata: object, mid: int, reason: ReasonCode, _props: object
    ) -> None:
        """paho's `on_publish` signature (callback API version 2)."""
        self.acknowledged(mid, reason)

    def settled(self) -> Iterator[tuple[T, ReasonCode]]:
        """The acknowledged messages at the head, oldest first, with the broker's reason."""
        pending, acked = self._pending, self._acked
        while pending and pending[0][0] in acked:
            mid, item = pending.popleft()
            yield item, acked.pop(mid)
        if len(acked) > len(pending):  # answers for messages nobody tracks: forget them
            tracked = {mid for mid, _item in pending}
            for mid in [m for m in acked if m not in tracked]:
                acked.pop(mid, None)

    def wait(self, *, at_most: int, timeout_s: float) -> list[tuple[T, ReasonCode]]:
        """Block until at most `at_most` messages are pending; returns what settled meanwhile.

        Raises `TimeoutError` if the broker has not answered enough within `timeout_s`.
        """
        deadline = time.monotonic() + timeout_s
        out = list(self.settled())
        while len(self._pending) > at_most:
            with self._changed:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._pending)} message(s) unacknowledged")
                if self._pending[0][0] not in self._acked:
                    self._changed.wait(min(left, 0.1))
            out += self.settled()
        return out
