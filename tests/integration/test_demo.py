"""`posture demo` as a user runs it: the whole product in one command, checked afterwards in
InfluxDB (its own, and the user's with `--external`), in the HTML reports it wrote and in the
process table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.offline import analyze
from analytics.records import EventKind, Placement, Posture
from analytics.summary import summarise
from dashboards.influx import InfluxClient
from dashboards.readback import wearer_records, wearers
from sensor_gateway.traces import read_trace
from tests.conftest import DATASETS
from transport.settings import MqttSettings

pytestmark = pytest.mark.integration


def demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "posture.cli", "demo", *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "100", **(env or {})},
    )


def our_processes() -> set[tuple[int, str]]:
    """mosquitto, influxd and recorder processes that are running now."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        command = " ".join(a.decode(errors="replace") for a in argv if a)
        if "mosquitto" in command or "influxd" in command or "posture.cli recorder" in command:
            found.add((int(entry.name), command))
    return found


def external(mqtt: MqttSettings, influx: InfluxClient) -> dict[str, str]:
    """The environment that points the demo at the test's broker and database."""
    return {
        "POSTURE_MQTT__HOST": mqtt.host,
        "POSTURE_MQTT__PORT": str(mqtt.port),
        "POSTURE_MQTT__TOPIC_ROOT": mqtt.topic_root,
        "POSTURE_INFLUX__URL": influx.url,
        "POSTURE_INFLUX__DATABASE": influx.settings.database,
    }


@pytest.mark.slow
def test_the_demo_on_a_busy_machine_loses_nothing_says_so_and_cleans_up(tmp_path: Path) -> None:
    """Default settings, a busy loop on every core for the whole run: the simulated day waits
    for its consumer, so the demo takes longer and loses nothing, and checks that it did. It
    prints each wearer's day as read back from InfluxDB, writes their reports, and stops every
    process it started (one run checks all of it: a demo run takes minutes)."""
    hogs = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 1)
    ]
    try:
        result = demo("--out", str(tmp_path))
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    last = result.stdout.strip().splitlines()[-1]
    found = re.fullmatch(r"RESULT wearers=3 samples_lost=(\d+) max_sitting_diff_pct=([\d.]+)", last)
    assert found, last
    assert int(found[1]) == 0
    assert float(found[2]) <= 1.0
    assert "Traceback" not in result.stderr
    for wearer in ("w01", "w02", "w03"):
        assert f"Wearer {wearer}, read back from InfluxDB" in result.stdout
    reports = sorted(tmp_path.glob("*.html"))
    assert [p.name.split("-")[0] for p in reports] == ["w01", "w02", "w03"]
    assert all(p.read_text().count("<svg") >= 4 for p in reports)
    assert "every process the demo started has stopped" in result.stdout
    # its recorder, and its private servers (they run in its own posture-demo-* directory);
    # other tests' servers may come and go meanwhile
    recorder = re.search(r"recorder running as process (\d+)", result.stdout)
    assert recorder, result.stdout[:2000]
    left = {command for pid, command in our_processes() if pid == int(recorder[1])}
    left |= {command for _pid, command in our_processes() if "posture-demo-" in command}
    assert not left, f"left behind: {left}"


def test_the_demo_replays_recordings_on_virtual_sensors(
    mqtt_settings: MqttSettings, influx: InfluxClient, tmp_path: Path
) -> None:
    recordings = [
        DATASETS / f"uci_hapt_waist/{name}.csv" for name in ("user03_exp05", "user05_exp09")
    ]
    args = [a for path in recordings for a in ("--trace", str(path))]
    env = external(mqtt_settings, influx)
    result = demo(*args, "--external", "--speed", "50", "--out", str(tmp_path), env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "w01 trunk microbit" in result.stdout
    assert "w02 trunk thingy52" in result.stdout
    assert "0 lost" in result.stdout
    assert wearers(influx) == ["w01", "w02"]
    for wearer, path in zip(("w01", "w02"), recordings, strict=True):
        offline = analyze({Placement.TRUNK: read_trace(path)[0]}).summary
        events, minutes = wearer_records(influx, wearer)
        summary = summarise(events, minutes)
        assert {EventKind.POSTURE_BOUT, EventKind.SITTING_BOUT} <= {e.kind for e in events}
        assert offline.sitting_s > 30
        assert abs(summary.sitting_s - offline.sitting_s) <= 5, wearer
        assert abs(summary.posture_s[Posture.WALKING] - offline.posture_s[Posture.WALKING]) <= 10
    assert len(list(tmp_path.glob("*.html"))) == 2
