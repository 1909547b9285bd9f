"""The daily report: made from a trace or from records, one self-contained HTML page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analytics.records import Event, EventKind, MinuteMetrics, Posture
from dashboards import report
from dashboards.plots import PLOTS
from posture.cli import app
from sensor_gateway.traces import read_trace
from tests.conftest import DATASETS

RECORDING = DATASETS / "casale_chest" / "subject08.csv"


def from_recording() -> report.Day:
    trace, _ = read_trace(RECORDING)
    return report.from_trace(trace, name=RECORDING.name)


def external_references(html: str) -> list[str]:
    """Everything in the page a browser would fetch: src/href/url() that are not in-page."""
    refs = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html)
    refs += re.findall(r"url\(\s*['\"]?([^'\")]*)", html)
    refs += re.findall(r"@import\s+['\"]?([^'\";]+)", html)
    return [r for r in refs if not r.startswith(("#", "data:"))]


@pytest.fixture(scope="module")
def page() -> str:
    return report.render(from_recording())


def test_the_report_has_every_plot_as_inline_svg(page: str) -> None:
    for name in PLOTS:
        figure = re.search(rf'<figure class="plot" id="plot-{name}">(.*?)</figure>', page, re.S)
        assert figure, name
        assert "<svg" in figure.group(1)
        assert "<?xml" not in figure.group(1)


def test_the_report_needs_no_network(page: str) -> None:
    assert external_references(page) == []
    assert "<script" not in page
    assert "<link" not in page


def test_the_report_says_the_day_in_words(page: str) -> None:
    day = from_recording()
    summary = day.summary
    words = " ".join(report.sentences(day))
    assert report.duration(summary.sitting_s) in words
    assert f"{summary.slouch_fraction:.0%} of your sitting time" in words
    sideways = report.duration(summary.lateral_s)
    assert f"bent sideways more than 10° (the limit of ISO 11226) for {sideways}" in words
    for sentence in report.sentences(day):
        assert sentence.replace("'", "&#39;") in page


def test_the_same_records_give_the_same_page() -> None:
    assert report.render(from_recording()) == report.render(from_recording())


def minute(t: float, **posture_s: int) -> MinuteMetrics:
    seconds = {p: posture_s.get(p.value, 0) for p in Posture}
    seconds[Posture.UNKNOWN] += 60 - sum(seconds.values())
    return MinuteMetrics("w1", t, seconds, 0, None, None, (0, 0, 0), 0.0)


def test_nudges_are_counted_and_answered_in_words() -> None:
    nudges = [
        Event("w1", EventKind.NUDGE, 100.0, 100.0, {"reason": "sitting"}),
        Event("w1", EventKind.NUDGE, 200.0, 200.0, {"reason": "sitting"}),
        Event("w1", EventKind.NUDGE, 300.0, 300.0, {"reason": "slouch"}),
        Event(
            "w1",
            EventKind.NUDGE_OUTCOME,
            100.0,
            400.0,
            {"reason": "sitting", "responded": True, "response_s": 60.0},
        ),
        Event(
            "w1", EventKind.NUDGE_OUTCOME, 200.0, 500.0, {"reason": "sitting", "responded": False}
        ),
        Event(
            "w1",
            EventKind.NUDGE_OUTCOME,
            300.0,
            600.0,
            {"reason": "slouch", "responded": True, "response_s": 120.0},
        ),
    ]
    day = report.Day("test", "a test", tuple(nudges), (minute(0.0, sitting=60),), 0.0, 600.0, None)
    words = report.sentences(day)
    assert (
        "You got 2 movement-break nudges and 1 slouch nudge; you responded to 2 of 3, "
        "on average 1 min 30 s later." in words
    )
    page = report.render(day)
    assert page.count("<svg") == len(PLOTS)


def test_a_day_without_anything_is_refused() -> None:
    with pytest.raises(report.NoData):
        report._extent([], [])


def test_posture_report_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["report", str(RECORDING), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(
    ("args", "code"),
    [
        ([], 2),
        ([str(RECORDING), "--wearer", "w1"], 2),
        (["--wearer", "w1", "--tz", "Nowhere/Atlantis"], 2),
        (["--wearer", "w1", "--day", "21.9.2026"], 2),
        (["--wearer", "bad id!"], 2),
        (["/nonexistent/trace.csv"], 1),
    ],
)
def test_posture_report_refuses_bad_input_in_one_line(
    tmp_path: Path, args: list[str], code: int
) -> None:
    result = CliRunner().invoke(app, ["report", *args, "--out", str(tmp_path / "r.html")])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output


def decision(t: float, decision: str, **values: str | float | bool) -> Event:
    return Event(
        "w1",
        EventKind.NUDGE_DECISION,
        t,
        t + 300,
        values={"reason": "sitting", "decision": decision, **values},
    )


def test_the_report_says_what_became_of_the_nudges_and_of_the_desk() -> None:
    events = (
        decision(1000.0, "sent", responded=True, response_s=60.0, break_s=200.0, interval_s=2700.0),
        decision(5000.0, "sent", responded=False, deferred_by="busy", interval_s=2700.0),
        decision(9000.0, "withheld", responded=False, interval_s=1800.0),
        decision(12000.0, "withheld", responded=True, response_s=30.0, break_s=90.0),
        decision(15000.0, "dropped", deferred_by="upright"),
        Event("w1", EventKind.DESK, 0.0, 3600.0, {"height_cm": 72.0, "position": "sitting"}),
        Event("w1", EventKind.DESK, 3600.0, 5400.0, {"height_cm": 110.0, "position": "standing"}),
    )
    day = report.Day("t", "records", events, (), 0.0, 20000.0, None)
    words = report.nudge_sentences(day)
    assert words[0] == "Some nudges waited for a better moment: 1 because you were busy."
    assert words[1] == "1 nudge was not sent because you were already up or the moment had passed."
    assert (
        "After 2 movement-break nudges sent, you took a break within the response window 1 time"
        in words[2]
    )
    assert words[-1].startswith("Your movement-break nudges now come after 30 min of sitting")
    assert (
        "Your desk was at sitting height (72 cm) for 1 h 00 min and at standing height (110 cm) "
        "for 30 min 00 s." in report.sentences(day)
    )
    page = report.render(day)
    assert '<section id="nudges">' in page
    for sentence in words:
        assert sentence.replace("'", "&#39;") in page
    assert report.nudge_sentences(report.Day("t", "r", (), (), 0.0, 1.0, None)) == []
