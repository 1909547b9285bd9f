"""Sensor profile decoders: vendor-sourced test vectors, round trips and arbitrary bytes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor_gateway.profiles import (
    NAMES,
    PROFILES,
    DecodeError,
    Nudge,
    generic,
    get_profile,
    metamotion,
    microbit,
    polar_h10,
    recognise,
    thingy52,
    witmotion,
)

# Polar BLE SDK, sources/Android/android-communications/library/src/test/java/com/polar/
# androidcommunications/api/ble/model/gatt/client/pmd/model/AccDataTest.kt
# ("process acc compressed data type 0"): 57 samples, factor 2.44E-4, expected milli-g are
# (factor * raw * 1000).toInt() of reference (1905, 27376, -29282) and of the first delta sample
# (1905 + 190, 27376 - 105, -29282 - 85); every sample within the 8 g range.
POLAR_COMPRESSED_0 = bytes.fromhex(
    "020094357700000000807107f06a9e8d0a38be5cbeba2f96b3ee4be5adfb42b9ebbe4cfeba2f92bfee4be4b1"
    "fb12b9ecbd3c3ebb2f8fd3de4be3b5f7d2b8edbd307e7b2f8be3ce8be2baf7a2b8eebc20be7b2f88f3cecbe1"
    "bdef52f8efbc18fe3b2f8403bfcbe0c2ef32b8f0bb044ebc2e8113af0be0c6eff2f7f1b9fc7dbc2e7d279f4b"
    "dfcaebc2f7f2b8eccd7c2e7b378f4bdecee392f7f3b8e00dfd2d774b7fcbddd2df6237f5b7d44dbd2d745b6f"
    "cbdcd7d73237f6b5c88d7d2d716b4f4bdcdcd3f236f7b4bcddfd2c6f7b3f4bdbe0cfd236f8b2b02dbe2c6c8f"
    "1fcbdae3c7a276f9"
)
# Same file, "process acc compressed data type 1": reference (-15, 20, 1008), one 6-bit delta
# sample (-5, -3, 0), factor 1.0, values in milli-g; frame timestamp 0x65 ns.
POLAR_COMPRESSED_1 = bytes.fromhex("02650000000000000081f1ff1400f00306017b0f08")
# Same file, "process acc raw data frame type 1": 16-bit milli-g, first samples (-9, -1, 999)
# and (-8, -2, 997); timestamp 2000000000 ns after 2000-01-01.
POLAR_RAW_1 = bytes.fromhex("02009435770000000001f7ffffffe703f8fffeffe503f9ffffffe503")


def g(*rows: tuple[float, float, float]) -> np.ndarray:
    return np.asarray(rows, dtype=np.float64)


VECTORS = [
    # docs/architecture.md (5) and the micro:bit DAL MicroBitAccelerometerService.cpp: x, y, z as
    # int16 milli-g from MicroBitAccelerometer::getX/Y/Z.
    ("microbit", "0c00d8ff00fc", g((0.012, -0.040, -1.024))),
    # Nordic Thingy:52 firmware m_motion.c: RAW_Q_FORMAT_ACC_INTEGER_BITS 6 (Q6.10 g),
    # ble_tms.h ble_tms_raw_t = accel, gyro, compass, 3 x int16 each.
    ("thingy52", "00000002" + "00fc" + "2000" * 3 + "1000" * 3, g((0.0, 0.5, -1.0))),
    # WitMotion WT901BLE protocol ("Acceleration, Angular Velocity, Angle Data Packet"):
    # 55 61 axL axH ... YawL YawH, a = value / 32768 * 16 g.
    ("witmotion", "5561" + "0008" + "00f8" + "0010" + "0000" * 6, g((1.0, -1.0, 2.0))),
    # MetaWear-SDK-Cpp test/test_accelerometer_bmi160.py TestBmi160AccelerationData
    # .test_get_acceleration_data_g at FSR_4G: CartesianFloat(x=-1.872, y=-2.919, z=-1.495).
    ("metamotion", "030416c494a22ad0", g((-1.872, -2.919, -1.495))),
    ("generic", "e8030000", None),  # too short: 2 of 3 numbers
]


@pytest.mark.parametrize(("name", "payload", "expected"), VECTORS, ids=[v[0] for v in VECTORS])
def test_vendor_vectors(name: str, payload: str, expected: np.ndarray | None) -> None:
    decode = get_profile(name).decode
    if expected is None:
        with pytest.raises(DecodeError):
            decode(bytes.fromhex(payload))
        return
    np.testing.assert_allclose(decode(bytes.fromhex(payload)).accel_g, expected, atol=5e-4)


def test_metamotion_8g_vector_matches_the_sdk_milli_g() -> None:
    # MetaWear-SDK-Cpp test_get_acceleration_data_mg at FSR_8G: CartesianShort(7181, -4100, -2365)
    decoded = metamotion.Decoder(range_g=8)(bytes.fromhex("0304e77264be28da"))
    assert (decoded.accel_g * 1000).astype(int).tolist() == [[7181, -4100, -2365]]


def test_polar_compressed_type_0_matches_the_sdk() -> None:
    decoded = polar_h10.Decoder(factor=2.44e-4)(POLAR_COMPRESSED_0)
    mg = (decoded.accel_g * 1000).astype(int)  # the SDK truncates towards zero
    factor = np.float32(2.44e-4)
    assert len(decoded) == 57
    expected = [(int(factor * v * 1000) for v in s) for s in ((1905, 27376, -29282),)]
    assert mg[0].tolist() == list(next(iter(expected)))
    first_delta = (1905 + 190, 27376 - 105, -29282 - 85)
    assert mg[1].tolist() == [int(factor * v * 1000) for v in first_delta]
    assert (np.abs(mg) <= 8000).all()
    assert decoded.device_time_s == pytest.approx(polar_h10.EPOCH_2000_UNIX_S + 2.0)


def test_polar_compressed_type_1_matches_the_sdk() -> None:
    decoded = polar_h10.Decoder()(POLAR_COMPRESSED_1)
    assert np.rint(decoded.accel_g * 1000).astype(int).tolist() == [
        [-15, 20, 1008],
        [-20, 17, 1008],
    ]


def test_polar_raw_type_1_matches_the_sdk() -> None:
    decoded = polar_h10.Decoder()(POLAR_RAW_1)
    assert np.rint(decoded.accel_g * 1000).astype(int).tolist()[:2] == [
        [-9, -1, 999],
        [-8, -2, 997],
    ]


def test_polar_raw_encoder_round_trips() -> None:
    accel = np.array([[0.1, -0.2, 0.981], [-1.5, 2.0, 0.0]])
    frame = polar_h10.encode_raw(accel, device_time_s=1.7e9)
    decoded = polar_h10.Decoder()(frame)
    np.testing.assert_allclose(decoded.accel_g, accel, atol=5e-4)
    assert decoded.device_time_s == pytest.approx(1.7e9, abs=1e-6)


def test_start_sequences_follow_the_vendor_protocols() -> None:
    assert thingy52.motion_config(50).hex(" ") == "e8 03 f4 01 f4 01 32 00 01"
    assert [w.data.hex(" ") for w in metamotion.PROFILE.start] == [
        "03 03 27 05",
        "03 04 01",
        "03 02 01 00",
        "03 01 01",
    ]
    assert witmotion.PROFILE.start[0].data.hex() == "ffaa6988b5"
    assert microbit.PROFILE.start[0].data == b"\x14\x00"
    assert polar_h10.PROFILE.start[0].data.hex(" ") == "02 02 00 01 32 00 01 01 10 00 02 01 08 00"


@pytest.mark.parametrize("name", ["microbit", "thingy52", "witmotion", "metamotion", "generic"])
def test_layout_encode_decode_round_trip(name: str) -> None:
    layouts = {
        "microbit": microbit.LAYOUT,
        "thingy52": thingy52.LAYOUT,
        "witmotion": witmotion.LAYOUT,
        "metamotion": metamotion.layouts(4)[b"\x03\x04"],
        "generic": generic.LAYOUT,
    }
    layout = layouts[name]
    accel = np.random.default_rng(1234).uniform(-1.9, 1.9, size=(6, 3))
    decoded = get_profile(name).decode(layout.encode(accel[:1]))
    np.testing.assert_allclose(decoded.accel_g, accel[:1], atol=1.0 / layout.per_g)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=300, deadline=None)
@given(payload=st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_decode_error(name: str, payload: bytes) -> None:
    try:
        decoded = PROFILES[name].decode(payload)
    except DecodeError as err:
        caught = err
    else:
        caught = None
    if caught is not None:
        assert caught.payload == payload
        return
    assert decoded.accel_g.ndim == 2
    assert decoded.accel_g.shape[1] == 3
    assert len(decoded) > 0
    assert np.isfinite(decoded.accel_g).all()


@settings(max_examples=200, deadline=None)
@given(
    reference=st.tuples(*[st.integers(-2000, 2000)] * 3),
    steps=st.lists(st.tuples(*[st.integers(-60, 60)] * 3), min_size=1, max_size=40),
)
def test_polar_delta_frames_decode_what_was_packed(
    reference: tuple[int, int, int], steps: list[tuple[int, int, int]]
) -> None:
    width = 8
    bits = np.concatenate(
        [np.array([(v >> i) & 1 for i in range(width)], dtype=np.uint8) for s in steps for v in s]
    )
    block = np.packbits(bits, bitorder="little").tobytes()
    body = np.array(reference, dtype="<i2").tobytes() + bytes((width, len(steps))) + block
    frame = bytes((2,)) + bytes(8) + bytes((0x81,)) + body
    decoded = polar_h10.Decoder()(frame)
    expected = np.cumsum(np.vstack([reference, steps]), axis=0)
    assert np.rint(decoded.accel_g * 1000).astype(int).tolist() == expected.tolist()


def test_profiles_are_recognised_by_name_or_service() -> None:
    assert recognise("BBC micro:bit [zogat]", []) is PROFILES["microbit"]
    assert recognise(None, [thingy52.MOTION_SERVICE.upper()]) is PROFILES["thingy52"]
    assert recognise("Polar H10 1A2B3C4D", []) is PROFILES["polar_h10"]
    assert recognise("Somebody's headphones", ["0000180d-0000-1000-8000-00805f9b34fb"]) is None


def test_nudges_exist_where_the_device_can_show_them() -> None:
    showable = {n for n, p in PROFILES.items() if p.nudge_writes(Nudge.SITTING)}
    assert showable == {"microbit", "thingy52", "metamotion", "generic"}
    assert not generic.make(haptic_uuid="").nudge_writes(Nudge.SITTING)  # firmware without a motor


@pytest.mark.parametrize("name", ["microbit", "thingy52", "metamotion", "generic"])
def test_a_device_that_shows_nudges_shows_each_kind_its_own_way(name: str) -> None:
    profile = PROFILES[name]
    shown = {kind: profile.nudge_writes(kind) for kind in Nudge}
    assert all(shown.values()), shown
    assert len(set(shown.values())) == len(Nudge)  # a standing nudge is not a movement break


def test_decode_command_prints_one_sample_per_line() -> None:
    from typer.testing import CliRunner

    from posture.cli import app

    result = CliRunner().invoke(
        app, ["decode", "--profile", "microbit", "0c00d8ff00fc", "0000e803"]
    )
    assert result.exit_code == 1  # the second payload is too short
    result = CliRunner().invoke(
        app, ["decode", "--profile", "metamotion", "030416c494a22ad0", "0304000000200000"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["-1.8723 -2.9194 -1.4949", "0.0000 1.0000 0.0000"]


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--profile", "microbit", "0c00d8ff"], "not a microbit notification"),
        (["--profile", "microbit", "zz"], "not hex"),
        (["--profile", "fitbit", "00"], "unknown profile 'fitbit'"),
    ],
)
def test_decode_command_bad_input_is_one_line_and_exit_1(args: list[str], text: str) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "posture.cli", "decode", *args], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert text in result.stderr
