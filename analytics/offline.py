"""Offline analysis of recorded traces through the same streaming engine."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np

from .monitor import Output, WearerMonitor
from .orientation import Calibration
from .params import AnalyticsParams
from .records import Context, Placement, SampleBatch, Trace
from .summary import DaySummary, summarise


@dataclass(slots=True)
class Analysis:
    """Everything the engine produced for one wearer."""

    output: Output
    summary: DaySummary


def interleave(
    traces: Mapping[Placement, Trace], *, chunk_s: float
) -> list[tuple[Placement, SampleBatch]]:
    """Batches of all sensors in time order, as a live gateway would deliver them."""
    batches = [
        (p, b)
        for p, trace in traces.items()
        for b in trace.batches(sensor_id=p.value, max_s=chunk_s)
    ]
    order = np.argsort([b.t0 for _, b in batches], kind="stable")
    return [batches[i] for i in order]


def analyze(
    traces: Mapping[Placement, Trace],
    *,
    wearer_id: str = "wearer",
    params: AnalyticsParams | None = None,
    chunk_s: float = 1800.0,
    progress: Callable[[float], None] | None = None,
    calibrate_first_s: float | None = None,
    calibrations: Mapping[Placement, Calibration] | None = None,
    contexts: Iterable[Context] = (),
) -> Analysis:
    """Run the streaming engine over whole traces (one per placement) and summarise the result.

    The engine's output does not depend on how the samples are chunked; large chunks are
    fastest. `calibrate_first_s` takes the first seconds of the data as the upright reference
    (a manual calibration); `calibrations` carries references in (a wearer's persisted ones);
    `contexts` are busy intervals (meetings, calls) during which nudges wait.
    `progress` is called with the fraction done (0..1) as the work goes on.
    """
    if not traces:
        raise ValueError("nothing to analyze: no traces")
    params = params or AnalyticsParams()
    if calibrate_first_s is not None:
        params = replace(
            params, calibration=replace(params.calibration, manual_s=calibrate_first_s)
        )
    monitor = WearerMonitor(
        wearer_id,
        placements=traces.keys(),
        params=params,
        calibrations=calibrations,
        max_wait_s=max(60.0, 2.0 * chunk_s),
    )
    for context in contexts:
        monitor.busy(context)
    if calibrate_first_s is not None:
        monitor.calibrate(min(float(t.t_s[0]) for t in traces.values() if len(t)))
    parts = []
    batches = interleave(traces, chunk_s=chunk_s)
    for i, (placement, batch) in enumerate(batches):
        parts.append(monitor.feed(placement, batch))
        if progress is not None and i % 64 == 0:
            progress(i / len(batches))
    parts.append(monitor.finish())
    if progress is not None:
        progress(1.0)
    out = Output.merge(parts)
    return Analysis(output=out, summary=summarise(out.events, out.minutes))
