"""Decoding payloads given as hex (the `posture decode` command)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from .profiles import DecodeError, get_profile


class DecodeFailure(ValueError):
    """A profile name or payload that cannot be decoded; the message is one line."""


def decode_hex(profile_name: str, payloads: Sequence[str]) -> Iterator[tuple[float, float, float]]:
    """Samples (x, y, z in g) of every payload in turn; raises `DecodeFailure`."""
    try:
        profile = get_profile(profile_name)
    except KeyError as err:
        raise DecodeFailure(str(err.args[0])) from None
    for i, text in enumerate(payloads, start=1):
        try:
            payload = bytes.fromhex(text.replace(":", " "))
        except ValueError:
            raise DecodeFailure(f"payload {i} is not hex: {text[:40]!r}") from None
        try:
            decoded = profile.decode(payload)
        except DecodeError as err:
            raise DecodeFailure(
                f"payload {i} is not a {profile.name} notification: {err}"
            ) from None
        for row in decoded.accel_g.tolist():
            yield (row[0], row[1], row[2])
