"""`posture analyze --context FILE.csv`: busy intervals applied to a recorded trace offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analytics.offline import analyze
from analytics.records import Context, EventKind, Placement
from posture.analysis import ContextFileError, read_contexts
from posture.cli import app
from sensor_gateway.traces import write_trace
from tests.synthetic import Part, rotation, trace

runner = CliRunner()


@pytest.fixture(scope="module")
def sitting_trace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A walk, 40 min of sitting (a nudge due 30 min in), a walk; times from 0."""
    parts = [
        Part("walk", 120),
        Part("down"),
        Part("sit", 2400, lean_deg=5),
        Part("up"),
        Part("walk", 120),
    ]
    path = tmp_path_factory.mktemp("ctx") / "sitting.csv"
    write_trace(path, trace(parts, mount=rotation((0.2, 1.0, -0.3), 40.0), rate_hz=25.0))
    return path


def nudge_times(path: Path, contexts: list[Context]) -> list[float]:
    from sensor_gateway.traces import read_trace

    tr, _ = read_trace(path)
    out = analyze({Placement.TRUNK: tr}, contexts=contexts).output
    return [e.start_s for e in out.events if e.kind is EventKind.NUDGE]


def test_a_meeting_in_the_context_file_moves_the_nudge_to_its_end(
    sitting_trace: Path, tmp_path: Path
) -> None:
    (plain,) = nudge_times(sitting_trace, [])
    assert 120 + 1800 <= plain <= 120 + 1810
    contexts = tmp_path / "calendar.csv"
    contexts.write_text(f"start_s,end_s,kind,note\n{plain - 300},{plain + 200},meeting,weekly\n")
    assert nudge_times(sitting_trace, read_contexts(contexts)) == [plain + 200]
    events = tmp_path / "events.jsonl"
    result = runner.invoke(
        app, ["analyze", str(sitting_trace), "--context", str(contexts), "--events", str(events)]
    )
    assert result.exit_code == 0, result.output
    assert "Nudges due 1: sent 1, withheld 0, dropped 0; waited for busy 1" in result.output
    decisions = [json.loads(line) for line in events.read_text().splitlines()]
    (decision,) = [d for d in decisions if d["kind"] == "nudge_decision"]
    assert decision["values"]["deferred_by"] == "busy"
    assert decision["values"]["delay_s"] == pytest.approx(200.0)  # due when it came without


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("start,end,kind\n1,2,meeting\n", "missing column(s) start_s, end_s"),
        ("start_s,end_s,kind\n1,x,meeting\n", "line 2: start_s and end_s must be numbers"),
        ("start_s,end_s,kind\n1,2,meeting\n5,3,call\n", "line 3: ends (3) before it starts (5)"),
        ("start_s,end_s,kind\n1,inf,meeting\n", "line 2: start_s and end_s must be finite"),
        ("start_s,end_s,kind\n1,2,team meeting\n", "line 2: kind 'team meeting' must be"),
        ("start_s,end_s,kind\n1,2\n", "line 2: 2 columns"),
        ("", "missing column(s)"),
    ],
)
def test_a_bad_context_file_is_refused_naming_the_line(
    tmp_path: Path, content: str, text: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ContextFileError) as caught:
        read_contexts(path)
    assert text in str(caught.value)


def test_analyze_with_a_bad_context_file_gives_one_line(
    sitting_trace: Path, tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("start_s,end_s,kind\n10,5,meeting\n")
    result = runner.invoke(app, ["analyze", str(sitting_trace), "--context", str(path)])
    assert result.exit_code == 1
    assert "line 2: ends (5) before it starts (10)" in result.output
    missing = runner.invoke(
        app, ["analyze", str(sitting_trace), "--context", str(tmp_path / "no.csv")]
    )
    assert missing.exit_code == 1
    assert "No such file" in missing.output
