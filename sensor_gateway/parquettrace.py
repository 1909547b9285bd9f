"""Traces as Parquet files: the columns `t_s, ax, ay, az` (any numeric type), other columns
ignored. Reading needs pyarrow (the `research` extra)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from analytics.records import Trace

from .traces import COLUMNS, TraceError

MAX_ROWS: Final = 200_000_000  # about 46 days at 50 Hz (6 GB in memory)


def _pyarrow(path: Path, what: str) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise TraceError(
            f"{path}: {what} Parquet needs pyarrow: pip install 'posture-monitor[research]'"
        ) from None


def read_parquet(path: Path) -> tuple[NDArray[np.float64], NDArray[np.float32 | np.float64]]:
    """Sample times and (n, 3) accelerations of a Parquet trace; raises `TraceError`."""
    _pyarrow(path, "reading")
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
        schema = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError) as err:
        raise TraceError(f"{path}: not a Parquet file ({str(err).splitlines()[0]})") from None
    missing = [c for c in COLUMNS if c not in schema.names]
    if missing:
        raise TraceError(
            f"{path}: missing column(s) {', '.join(missing)} (needs {', '.join(COLUMNS)}; "
            f"has {', '.join(schema.names) or 'nothing'})"
        )
    for name in COLUMNS:
        kind = schema.field(name).type
        if not (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
            raise TraceError(f"{path}: column {name} holds {kind}, not numbers")
    if meta.num_rows > MAX_ROWS:
        raise TraceError(f"{path}: {meta.num_rows:,} rows, more than {MAX_ROWS:,}; split it")
    if meta.num_rows == 0:
        raise TraceError(f"{path}: no samples")
    # batch by batch into arrays of the final size: one batch in Arrow's memory at a time
    t = np.empty(meta.num_rows)
    a = np.empty((meta.num_rows, 3), dtype=np.float32)
    at = 0
    try:
        reader = pq.ParquetFile(path, pre_buffer=False)  # pre-buffering holds a row group twice
        for batch in reader.iter_batches(batch_size=1 << 18, columns=list(COLUMNS)):
            n = batch.num_rows
            for k, name in enumerate(COLUMNS):
                column = batch.column(name)
                if column.null_count:
                    row = at + int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))
                    raise TraceError(f"{path} row {row + 1}: {name} is empty (must be a number)")
                if k == 0:
                    t[at : at + n] = numpy_column(column, np.float64)
                else:
                    a[at : at + n, k - 1] = numpy_column(column, np.float32)
            at += n
    except (pa.ArrowException, OSError) as err:
        raise TraceError(f"{path}: unreadable Parquet ({str(err).splitlines()[0]})") from None
    return t[:at], a[:at]


def arrow_pool() -> Any:
    """Arrow memory that goes back to the system as soon as it is freed (the default pool
    keeps it: a day's trace would stay in memory twice)."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:
        return pa.system_memory_pool()
    return pool


def numpy_column(column: Any, dtype: type[np.floating[Any]]) -> NDArray[Any]:
    """A pyarrow array or column of numbers without nulls as one numpy array of `dtype`.

    Its `to_numpy()` would import pandas when pandas is installed: half a second.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    chunks = []
    for chunk in getattr(column, "chunks", [column]):
        kind = pa.from_numpy_dtype(dtype)
        same = chunk if chunk.type == kind else pc.cast(chunk, kind)
        values = np.frombuffer(same.buffers()[1], dtype=dtype)
        chunks.append(values[same.offset : same.offset + len(same)])
    return np.concatenate(chunks) if len(chunks) != 1 else chunks[0]


def write_parquet(path: Path, trace: Trace) -> None:
    """Write `trace` as Parquet: t_s as float64, accelerations as float32 (16-bit sensors)."""
    _pyarrow(path, "writing")
    import pyarrow as pa
    import pyarrow.parquet as pq

    a = np.asarray(trace.accel_g, dtype=np.float32)
    table = pa.table(
        {"t_s": trace.t_s.astype(np.float64), "ax": a[:, 0], "ay": a[:, 1], "az": a[:, 2]}
    )
    pq.write_table(table, path, compression="zstd")
