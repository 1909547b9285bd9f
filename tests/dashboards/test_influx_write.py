"""Writing to InfluxDB: refused points are bisected out, 413 splits, and the 2.x/3.x path
(influxdb-client against a fake /api/v2/write) sends what it should and never logs the token."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pytest

from dashboards.influx import InfluxClient, InfluxRejected, InfluxUnavailable, write_isolating
from dashboards.settings import InfluxSettings
from posture.testing.servers import free_port
from tests.fake_influx_v2 import Request, fake_influx_v2

TOKEN = "s3cr3t-t0ken-value"
LINES = [f"event,wearer=w{i} end_s={i} {1_790_000_000_000 + i}" for i in range(100)]


class FakeInflux:
    """Refuses (400) any write holding a line with `bad`, and (413) bodies over `max_lines`."""

    def __init__(self, *, max_lines: int = 10_000, status: int = 400) -> None:
        self.max_lines = max_lines
        self.status = status
        self.writes: list[list[str]] = []
        self.stored: set[str] = set()

    def write(self, lines: Sequence[str]) -> None:
        self.writes.append(list(lines))
        if len(lines) > self.max_lines:
            raise InfluxRejected(413, "Request Entity Too Large")
        if any("bad" in line for line in lines):
            raise InfluxRejected(self.status, "partial write: field type conflict")
        self.stored.update(lines)


def test_refused_points_are_bisected_out_and_everything_else_written() -> None:
    lines = list(LINES)
    for i in (3, 50, 51, 99):
        lines[i] = lines[i].replace("end_s", "bad")
    fake = FakeInflux()
    refused = write_isolating(fake, lines)  # type: ignore[arg-type]
    assert sorted(refused) == [3, 50, 51, 99]
    assert all("field type conflict" in reason for reason in refused.values())
    assert fake.stored == {line for i, line in enumerate(lines) if i not in refused}
    assert len(fake.writes) < 4 * 2 * 7 + 1  # k refused points cost O(k log n) writes


def test_a_body_too_large_is_split_until_it_fits() -> None:
    fake = FakeInflux(max_lines=7)
    assert write_isolating(fake, LINES) == {}  # type: ignore[arg-type]
    assert fake.stored == set(LINES)
    assert max(len(w) for w in fake.writes if len(w) <= 7) <= 7


def test_a_refusal_that_is_not_about_points_is_raised_for_a_retry() -> None:
    with pytest.raises(InfluxRejected, match="401"):
        write_isolating(FakeInflux(status=401), [*LINES, "bad"])  # type: ignore[arg-type]


def v2(url: str, **changes: object) -> InfluxClient:
    settings = InfluxSettings.model_validate(
        {"url": url, "api": "v2", "org": "ergo", "database": "posture", "token": TOKEN} | changes
    )
    return InfluxClient(settings)


def test_v2_posts_line_protocol_with_token_org_bucket_and_ms_precision(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with fake_influx_v2() as fake:
        client = v2(fake.url)
        client.write(LINES[:10])
        client.write(LINES[10:20])
        client.close()
    assert [r.path for r in fake.requests] == ["/api/v2/write", "/api/v2/write"]
    request = fake.requests[0]
    assert request.query["org"] == "ergo"
    assert request.query["bucket"] == "posture"
    assert request.query["precision"] == "ms"
    assert request.headers["authorization"] == f"Token {TOKEN}"
    assert fake.written == LINES[:20]
    assert TOKEN not in caplog.text
    assert TOKEN not in repr(client)


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, InfluxRejected), (401, InfluxRejected), (413, InfluxRejected), (503, InfluxUnavailable)],
)
def test_v2_answers_map_to_the_two_kinds_of_error(status: int, error: type[Exception]) -> None:
    with fake_influx_v2(lambda _r: status) as fake:
        client = v2(fake.url)
        with pytest.raises(error) as caught:
            client.write(LINES[:3])
        client.close()
    assert str(status) in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_v2_unreachable_is_unavailable() -> None:
    client = v2(f"http://127.0.0.1:{free_port()}", timeout_s=2.0)
    with pytest.raises(InfluxUnavailable):
        client.write(LINES[:3])
    client.close()


def test_v2_refused_points_and_413_are_isolated_through_influxdb_client() -> None:
    def answer(request: Request) -> int:
        if len(request.body) > 600:
            return 413
        return 400 if any("w13 " in line for line in request.lines) else 204

    with fake_influx_v2(answer) as fake:
        client = v2(fake.url)
        refused = write_isolating(client, LINES)
        client.close()
    assert list(refused) == [13]
    assert "400" in refused[13]
    assert sorted(fake.written) == sorted(line for i, line in enumerate(LINES) if i != 13)


def test_v1_credentials_from_a_secret_file_are_sent_and_never_shown(tmp_path: Path) -> None:
    secret = tmp_path / "influx_password"
    secret.write_text("v1-pa55word\n")
    client = InfluxClient(
        InfluxSettings(url="http://127.0.0.1:1", username="recorder", password_file=secret)
    )
    assert client._headers["authorization"].startswith("Basic ")
    assert "v1-pa55word" not in repr(client)
    assert "v1-pa55word" not in repr(client.settings)


def test_the_compose_recorder_writes_through_influxdb_2s_v1_api_with_its_write_only_user() -> None:
    """docker-compose.yml's recorder: api v1, user and password, against an InfluxDB 2.x. It
    creates nothing there (the init script made the bucket, its DBRP mapping and retention) and
    writes to the mapped database."""
    with fake_influx_v2() as fake:
        settings = InfluxSettings.model_validate(
            {
                "url": fake.url,
                "api": "v1",
                "database": "posture",
                "username": "recorder",
                "password": "s3cret",
                "retention": "365d",
            }
        )
        client = InfluxClient(settings)
        client.ensure_database()
        client.write(LINES[:5])
        client.close()
    assert [r.path for r in fake.requests] == ["/write"]  # no CREATE DATABASE, no ALTER
    (request,) = fake.requests
    assert request.query["db"] == "posture"
    assert request.headers["authorization"].startswith("Basic ")
    assert fake.written == LINES[:5]
