"""The settings object: TOML, POSTURE_* overrides, and one-line errors naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from analytics.records import Placement, Posture
from posture.settings import load_settings
from transport.settings import ConfigError


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "posture.toml"
    path.write_text(text)
    return path


def test_defaults_need_no_file() -> None:
    settings = load_settings(None)
    assert settings.mqtt.port == 1883
    assert settings.analytics.bouts.prolonged_s == 1800


def test_the_example_file_is_valid() -> None:
    settings = load_settings(Path(__file__).resolve().parents[2] / "posture.example.toml")
    assert settings.gateway.sensors


def test_file_values_and_environment_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _toml(
        tmp_path, '[mqtt]\nhost = "broker"\nport = 1884\n[analytics.bouts]\nbreak_min_s = 120\n'
    )
    monkeypatch.setenv("POSTURE_MQTT__PORT", "1999")
    settings = load_settings(path)
    assert (settings.mqtt.host, settings.mqtt.port) == ("broker", 1999)
    assert settings.analytics.bouts.break_min_s == 120


def test_a_partial_min_bout_table_keeps_the_other_defaults(tmp_path: Path) -> None:
    path = _toml(tmp_path, "[analytics.thresholds.min_bout_s]\nsitting = 10\n")
    table = load_settings(path).analytics.thresholds.min_bout_s
    assert table[Posture.SITTING] == 10
    assert table[Posture.STANDING] == 2


def test_mounts_and_slouch_sensitivity_come_from_the_file(tmp_path: Path) -> None:
    text = '[analytics.mounting]\nthigh = "-y +z"\n[analytics.slouch]\nsensitivity = "high"\n'
    analytics = load_settings(_toml(tmp_path, text)).analytics
    assert analytics.mounting.axes(Placement.THIGH) == ((0.0, -1.0, 0.0), (0.0, 0.0, 1.0))
    assert analytics.mounting.axes(Placement.TRUNK) is None
    assert analytics.slouch.threshold_deg == 15.0


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ('[mqtt]\nport = "abc"\n', {}, r"mqtt\.port = 'abc'.*valid integer.*config file"),
        ("", {"POSTURE_MQTT__PORT": "x"}, r"mqtt\.port.*POSTURE_MQTT__PORT"),
        ("[mqtt]\nhots = 1\n", {}, r"mqtt\.hots: Extra inputs"),
        ("[mqtt]\nport = 70000\n", {}, r"mqtt\.port = 70000"),
        ("[analytics.slouch]\nhold_s = -5\n", {}, r"analytics\.slouch.*hold_s must be positive"),
        (
            '[[gateway.sensors]]\naddress = "x"\nprofile = "nope"\nwearer = "w1"\n',
            {},
            r"gateway\.sensors\.0\.profile",
        ),
        (
            '[[gateway.sensors]]\naddress = "x"\nprofile = "microbit"\nwearer = "Jane Doe"\n',
            {},
            "wearer id",
        ),
        ("[mqtt\n", {}, "not valid TOML"),
        ('[analytics.mounting]\nthigh = "+x +x"\n', {}, r"analytics\.mounting.*two different"),
        ('[analytics.slouch]\nsensitivity = "max"\n', {}, r"sensitivity must be one of"),
        (
            '[analytics.slouch]\nsensitivity = "high"\nthreshold_deg = 30\n',
            {},
            "either sensitivity or threshold_deg",
        ),
        ('[wearers."Jane Doe"]\nlanguage = "de"\n', {}, "wearer id 'Jane Doe'"),
        ('[wearers.w1]\nlanguage = "fr"\n', {}, r"wearers\.w1\.language.*one of en, de"),
        ('[[wearers.w1.busy]]\ntopic = "cal/+/state"\n', {}, r"busy\.0\.topic.*wildcards"),
        ('[[wearers.w1.busy]]\ntopic = "c"\nbusy_values = []\n', {}, r"busy_values"),
        ('[wearers.w1.desk]\nstand_payload = "110"\n', {}, r"wearers\.w1\.desk.*height_topic"),
        (
            '[wearers.w1.desk]\nheight_topic = "d/h"\nstand_payload = "110"\n',
            {},
            "payloads without a command_topic",
        ),
        ('[wearers.w1.desk]\ncommand_topic = "d/set"\n', {}, "stand_payload or a sit_payload"),
        ('[wearers.w1.desk]\ncommand_topic = "d/#"\nsit_payload = "1"\n', {}, "wildcards"),
    ],
)
def test_invalid_configuration_is_one_line_naming_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, env: dict[str, str], message: str
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(_toml(tmp_path, text))
    assert "\n" not in str(info.value)


def test_a_wearers_own_settings_change_only_their_analytics(tmp_path: Path) -> None:
    text = '[analytics.nudges]\nsitting_s = 1200\n[wearers.w1]\nlanguage = "de"\n[wearers.w2]\n'
    settings = load_settings(_toml(tmp_path, text))
    german = settings.wearers["w1"].params(settings.analytics)
    assert german.nudges.language == "de"
    assert german.nudges.sitting_s == 1200  # the rest as configured for everyone
    assert settings.wearers["w2"].params(settings.analytics) == settings.analytics
    assert settings.analytics.nudges.language == "en"


def test_a_desk_says_what_to_send_for_each_position(tmp_path: Path) -> None:
    text = '[wearers.w1.desk]\ncommand_topic = "d/set"\nstand_payload = "OPEN"\n'
    desk = load_settings(_toml(tmp_path, text)).wearers["w1"].desk
    assert desk is not None
    assert (desk.payload("stand"), desk.payload("sit"), desk.payload("up")) == ("OPEN", "", "")


def test_a_config_path_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "missing.toml")


def test_secrets_are_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTURE_MQTT__PASSWORD", "hunter2")
    settings = load_settings(None)
    assert isinstance(settings.mqtt.password, SecretStr)
    assert "hunter2" not in repr(settings)
    assert settings.mqtt.password_value() == "hunter2"


def test_secrets_can_come_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("s3cret\n")
    path = _toml(tmp_path, f'[influx]\ntoken_file = "{secret}"\n')
    assert load_settings(path).influx.token_value() == "s3cret"
