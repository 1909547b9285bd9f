"""Commands on what is held about wearers: `export` (research tables, activPAL, FHIR) and
`subject export` / `subject erase` (a data subject's access and erasure)."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from analytics.records import Placement
from analytics.wire import check_id
from posture.app import ConfigOption, VerboseOption, app, console, err_console, fail, settings
from posture.commands.analysis import TRACE_HELP

if TYPE_CHECKING:
    from posture.export import WearerData

RELATIVE_BEFORE_S = 946_684_800.0  # 2000-01-01: earlier trace times are from the recording start


def _zone(tz: str | None) -> ZoneInfo:
    from posture.zones import local_zone, zone

    return zone(tz) if tz else local_zone()


def _period(first: str | None, last: str | None, zone: ZoneInfo) -> tuple[float, float]:
    """Unix seconds from the start of `first` to the end of `last` (local dates, inclusive)."""
    from analytics.outcomes import day_bounds

    today = datetime.now(zone).date()
    end = date.fromisoformat(last) if last else today
    start = date.fromisoformat(first) if first else end - timedelta(days=6)
    if start > end:
        raise ValueError(f"--from {start} is after --to {end}")
    return day_bounds(start, zone)[0], day_bounds(end, zone)[1]


def _from_trace(
    trace: Path,
    *,
    thigh: Path | None,
    placement: Placement,
    wearer: str,
    start: str | None,
    zone: ZoneInfo,
) -> WearerData:
    from analytics.offline import analyze as run_analysis
    from posture.analysis import load_traces
    from posture.export import WearerData

    named = (
        {placement: trace} if thigh is None else {Placement.TRUNK: trace, Placement.THIGH: thigh}
    )
    with err_console.status(f"reading {escape(' and '.join(p.name for p in named.values()))}"):
        traces, notes = load_traces(named)
    if isinstance(traces, str):
        raise fail(traces)
    first = min(float(t.t_s[0]) for t in traces.values())
    if start is not None:
        moment = datetime.fromisoformat(start)
        anchor = (moment if moment.tzinfo else moment.replace(tzinfo=zone)).timestamp()
        traces = {p: t.shifted(anchor) for p, t in traces.items()}
    elif first < RELATIVE_BEFORE_S:
        notes.append(
            "the trace's times are seconds from its start, shown as from 1970-01-01 00:00 UTC; "
            "give --start to say when it began"
        )
    for note in notes:
        err_console.print(f"[yellow]note:[/] {escape(note)}")
    with err_console.status("analysing"):
        analysis = run_analysis(traces, wearer_id=wearer, params=settings().analytics)
    out = analysis.output
    return WearerData(wearer, out.events, out.minutes, out.timeline)


def _check_request(
    fmt: str,
    names: list[str],
    *,
    trace: Path | None,
    thigh: Path | None,
    wearer: str | None,
    team: str | None,
    tz: str | None,
) -> ZoneInfo:
    """The export's time zone; raises ValueError (or ImportError) for a request that cannot be."""
    from posture.export import FORMATS, TABLES

    if fmt not in FORMATS:
        raise ValueError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    unknown = [n for n in names if n not in TABLES]
    if unknown:
        raise ValueError(f"unknown table(s) {', '.join(unknown)}: {', '.join(TABLES)}")
    if trace is None and (wearer is None) == (team is None):
        raise ValueError("give a trace file, or --wearer or --team (from InfluxDB)")
    if trace is None and thigh is not None:
        raise ValueError("--thigh goes with a trace file")
    if wearer is not None:
        check_id(wearer, what="wearer id")
    if fmt == "parquet":
        import pyarrow  # noqa: F401
    return _zone(tz)


@app.command()
def export(  # noqa: PLR0917 (typer passes options by name)
    trace: Annotated[Path | None, typer.Argument(help=TRACE_HELP)] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write into.")] = Path(
        "export"
    ),
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv, parquet, activpal or fhir.")
    ] = "csv",
    tables: Annotated[
        str,
        typer.Option(help="Tables (csv, parquet): seconds,minutes,events,bouts,bout_counts,days."),
    ] = "seconds,minutes,events,bouts,bout_counts,days",
    thigh: Annotated[Path | None, typer.Option(help="A thigh trace (TRACE is the trunk).")] = None,
    placement: Annotated[
        Placement, typer.Option(help="Where the sensor of TRACE was worn.")
    ] = Placement.TRUNK,
    wearer: Annotated[
        str | None,
        typer.Option("--wearer", "-w", help="From InfluxDB: this wearer (or a trace's name)."),
    ] = None,
    team: Annotated[str | None, typer.Option(help="From InfluxDB: every wearer of a team.")] = None,
    first: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD); 6 days before --to.")
    ] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last day; today by default.")] = None,
    tz: Annotated[
        str | None, typer.Option(help="Time zone of days and local times; local by default.")
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            help="When a trace with relative times began (ISO 8601, e.g. 2026-09-21T08:00)."
        ),
    ] = None,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Export research data: per-second postures, minutes, events, bouts, bout counts and daily
    summaries (CSV or Parquet), an activPAL-style events file, or FHIR R4 Bundles; from a trace
    (offline) or from InfluxDB (--wearer or --team, --from, --to)."""
    from dashboards.influx import InfluxClient, InfluxError
    from posture.export import from_influx, team_wearers, write_export

    names = [n.strip() for n in tables.split(",") if n.strip()]
    try:
        zone = _check_request(fmt, names, trace=trace, thigh=thigh, wearer=wearer, team=team, tz=tz)
    except ImportError:
        raise fail(
            "Parquet needs pyarrow: pip install 'posture-monitor[research]'", code=2
        ) from None
    except ValueError as err:
        raise fail(str(err), code=2) from None
    interruption = settings().analytics.bouts.interruption_max_s
    try:
        if trace is not None:
            data = [
                _from_trace(
                    trace,
                    thigh=thigh,
                    placement=placement,
                    wearer=wearer or "wearer",
                    start=start,
                    zone=zone,
                )
            ]
        else:
            start_s, end_s = _period(first, last, zone)
            influx = InfluxClient(settings().influx)
            try:
                ids = [wearer] if wearer else team_wearers(influx, team or "")
                if not ids:
                    raise fail(f"no wearers of team {team!r} in InfluxDB")
                with err_console.status(f"reading {len(ids)} wearer(s) from InfluxDB"):
                    data = from_influx(influx, ids, start_s, end_s)
            finally:
                influx.close()
        written = write_export(
            data,
            out,
            zone=zone,
            fmt=fmt,
            names=names,
            interruption_max_s=interruption,
            now_s=time.time(),
        )
    except InfluxError as err:
        raise fail(str(err)) from None
    except ValueError as err:
        raise fail(str(err), code=2) from None
    except OSError as err:
        raise fail(f"{err.filename or out}: {err.strerror or err}") from None
    for path in written:
        console.print(f"wrote {escape(str(path))}", highlight=False)


subject = typer.Typer(
    help="A data subject's rights: a copy of everything held about a wearer, or its erasure.",
    no_args_is_help=True,
)
app.add_typer(subject, name="subject")


def _confirmed(question: str) -> bool:
    try:
        return typer.confirm(question, default=False)
    except typer.Abort:  # no answer: no terminal, or Ctrl-C
        return False


def _places() -> tuple[Path | None, list[Path]]:
    return settings().gateway.state_dir, list(settings().privacy.trace_dirs)


@subject.command("export")
def subject_export(
    wearer: Annotated[str, typer.Option("--wearer", "-w", help="The wearer's pseudonym.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to gather it all in.")],
    tz: Annotated[str | None, typer.Option(help="Time zone of days; local by default.")] = None,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Gather everything held about one wearer: the daily reports, every export and FHIR,
    device reports, calibrations, nudge history (among the events) and recorded traces."""
    from dashboards.influx import InfluxClient, InfluxError
    from posture import subject as rights

    try:
        check_id(wearer, what="wearer id")
        zone = _zone(tz)
    except ValueError as err:
        raise fail(str(err), code=2) from None
    state_dir, trace_dirs = _places()
    influx = InfluxClient(settings().influx)
    try:
        with err_console.status(f"gathering what is held about {escape(wearer)}"):
            written = rights.export(
                influx,
                wearer,
                out,
                state_dir=state_dir,
                trace_dirs=trace_dirs,
                zone=zone,
                prolonged_s=settings().analytics.bouts.prolonged_s,
                interruption_max_s=settings().analytics.bouts.interruption_max_s,
                now_s=time.time(),
            )
    except InfluxError as err:
        raise fail(str(err)) from None
    except (OSError, ValueError) as err:
        raise fail(
            f"{getattr(err, 'filename', None) or out}: {getattr(err, 'strerror', None) or err}"
        ) from None
    finally:
        influx.close()
    console.print(f"wrote {len(written)} files into {escape(str(out))}", highlight=False)


@subject.command("erase")
def subject_erase(
    wearer: Annotated[str, typer.Option("--wearer", "-w", help="The wearer's pseudonym.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    _config: ConfigOption = None,
    _verbose: VerboseOption = 0,
) -> None:
    """Erase a wearer from InfluxDB (every measurement), the gateway's state_dir and the
    recorded traces; then check that nothing remains, and write an audit line (no personal
    data in it). Backups are not reached: see docs/privacy.md."""
    from dashboards.influx import InfluxClient, InfluxError
    from posture import subject as rights

    try:
        check_id(wearer, what="wearer id")
    except ValueError as err:
        raise fail(str(err), code=2) from None
    state_dir, trace_dirs = _places()
    influx = InfluxClient(settings().influx)
    try:
        found = rights.holdings(influx, wearer, state_dir=state_dir, trace_dirs=trace_dirs)
        console.print(f"held about {escape(wearer)}: {found.describe()}", highlight=False)
        if not yes and not _confirmed("erase all of it, for good?"):
            raise fail("nothing erased (give --yes to erase without a question)", code=1)
        removed, _after = rights.erase(influx, wearer, state_dir=state_dir, trace_dirs=trace_dirs)
        receipt = rights.write_audit(settings().privacy.audit_log, removed, now_s=time.time())
    except InfluxError as err:
        raise fail(str(err)) from None
    except rights.ErasureIncomplete as err:
        raise fail(str(err)) from None
    except (OSError, ValueError) as err:
        raise fail(
            f"{getattr(err, 'filename', None) or ''}: {getattr(err, 'strerror', None) or err}"
        ) from None
    finally:
        influx.close()
    console.print(f"erased: {removed.describe()}", highlight=False)
    console.print(
        f"verified: nothing is held about {escape(wearer)} any more; receipt {receipt} "
        f"(in {escape(str(settings().privacy.audit_log))})",
        highlight=False,
    )
