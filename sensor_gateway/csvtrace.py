"""Reading the columns `t_s, ax, ay, az` of a CSV trace, fast, and explaining a bad one.

The file is looked at before it is parsed: its size, the encoding of its first bytes (binary
data, UTF-16 and non-UTF-8 text are named as such; a UTF-8 byte-order mark is skipped) and the
length of its first line. Good files are parsed by pyarrow's multi-threaded CSV reader when it is
installed (the `research` extra), else by numpy's `loadtxt`. Whenever the fast parser refuses a
file, numpy's reader reads it again to name the line and the column at fault, so both give the
same one-line errors.
"""

from __future__ import annotations

import codecs
import csv
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
from numpy.typing import NDArray

from .parquettrace import arrow_pool, numpy_column
from .traces import COLUMNS, TraceError

MAX_CSV_BYTES: Final = 1 << 30  # 1 GiB: a week at 50 Hz; longer recordings go in Parquet
MAX_LINE_BYTES: Final = 1 << 20  # 1 MiB; a real trace's lines are tens of bytes
_HEAD_BYTES: Final = 1 << 16  # what is looked at before parsing
_PIECE_BYTES: Final = 1 << 22  # parsed at a time
Columns = tuple[NDArray[np.float64], NDArray[np.float32]]
_NUMPY_ROW = re.compile(r"at row (\d+), column (\d+)")
_NUMPY_SHORT = re.compile(r"at row (\d+) with (\d+) columns")


def read_csv(path: Path) -> Columns:
    """Times (n,) and accelerations (n, 3) of a CSV trace, as read; raises `TraceError`.

    Accelerations are held as 32-bit floats: as precise as any accelerometer's samples.
    """
    size = path.stat().st_size
    if size > MAX_CSV_BYTES:
        raise TraceError(
            f"{path}: {size / 2**20:,.0f} MiB is more than a CSV trace may have "
            f"({MAX_CSV_BYTES // 2**20:,} MiB); give long recordings as Parquet (columns "
            f"{', '.join(COLUMNS)}) or as the device's own file (.cwa, .bin, .gt3x)"
        )
    header = _header(path)
    data = _fast(path, header)
    if data is None:  # refused by the fast parser, or not installed: numpy names the problem
        _check_lines(path)
        data = _careful(path, header)
    if data[0].size == 0:
        raise TraceError(f"{path}: no samples after the header")
    return data


def line_of_row(path: Path, row: int) -> int:
    """The line number (from 1) of data row `row` (from 0): the header and blank lines skipped."""
    with path.open("rb") as f:
        next(f, None)
        seen = -1
        for number, line in enumerate(f, start=2):
            if line.strip():
                seen += 1
                if seen == row:
                    return number
    return row + 2


# -- before parsing ------------------------------------------------------------------------------


def _encoding_problem(head: bytes) -> str | None:
    """Why `head` (the first bytes of the file) is not UTF-8 text, or None if it is."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "is UTF-32 text; save it as UTF-8 (CSV UTF-8)"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "is UTF-16 text; save it as UTF-8 (CSV UTF-8)"
    nul = head.find(b"\0")
    if nul >= 0:
        odd, even = head[1:64:2], head[0:64:2]
        if min(odd.count(0), even.count(0)) == 0 and max(odd.count(0), even.count(0)) > 0.8 * len(
            odd
        ):
            return "looks like UTF-16 text (every other byte is zero); save it as UTF-8"
        return (
            f"is binary, not CSV text (a zero byte at byte {nul}); device files are read by "
            "their extension: .cwa, .bin, .gt3x, .parquet"
        )
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as err:
        if err.end < len(head) - 3:  # not just a character cut off at the end of the head
            line = head[: err.start].count(b"\n") + 1
            return f"line {line}: is not UTF-8 text (byte 0x{head[err.start]:02x}); save as UTF-8"
    return None


def _header(path: Path) -> list[str]:
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    if not head:
        raise TraceError(f"{path}: empty file")
    problem = _encoding_problem(head)
    if problem is not None:
        raise TraceError(f"{path}: {problem}")
    head = head.removeprefix(codecs.BOM_UTF8)
    end = head.find(b"\n")
    if end < 0 and len(head) >= _HEAD_BYTES - len(codecs.BOM_UTF8):
        raise TraceError(
            f"{path}: line 1 is longer than {_HEAD_BYTES // 1024} KiB: not a trace's header"
        )
    first_line = head[: end if end >= 0 else len(head)].decode("utf-8", errors="replace")
    first = next(csv.reader([first_line]), [])
    header = [h.strip() for h in first]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise TraceError(
            f"{path}: missing column(s) {', '.join(missing)} (needs {', '.join(COLUMNS)}; "
            f"header has {', '.join(header) or 'nothing'})"
        )
    return header


def _line_lengths(path: Path, chunk: int = 1 << 20) -> Iterator[tuple[int, int]]:
    """(line number, length in bytes) of each line, counted in chunks (no line is held whole)."""
    number, length = 1, 0
    with path.open("rb") as f:
        while block := f.read(chunk):
            ends = np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == 10)
            if ends.size == 0:
                length += len(block)
                if length > MAX_LINE_BYTES:
                    yield number, length
                    return
                continue
            lengths = np.diff(ends, prepend=-1)
            lengths[0] += length
            for i in np.flatnonzero(lengths > MAX_LINE_BYTES + 1).tolist():
                yield number + i, int(lengths[i]) - 1
            number += ends.size
            length = len(block) - int(ends[-1]) - 1
    if length:
        yield number, length


def _check_lines(path: Path) -> None:
    for number, length in _line_lengths(path):
        if length > MAX_LINE_BYTES:
            raise TraceError(
                f"{path} line {number}: longer than {MAX_LINE_BYTES // 2**20} MiB "
                "(a trace's lines are short): not a CSV trace"
            )


# -- parsing ------------------------------------------------------------------------------------


def _pieces(path: Path) -> Iterator[bytes]:
    """The data lines in pieces of about `_PIECE_BYTES` that end at a line's end.

    Raises `_LongLine` for a line longer than `MAX_LINE_BYTES`.
    """
    with path.open("rb") as f:
        f.readline(_HEAD_BYTES)  # the header, checked before
        carry = b""
        while block := f.read(_PIECE_BYTES):
            data = carry + block
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) > MAX_LINE_BYTES:
                raise _LongLine
            if cut:
                yield data[:cut]
            carry = data[cut:]
        if carry.strip():
            yield carry


class _LongLine(Exception):
    pass


def _grown(values: NDArray[Any], rows: int, used: int) -> NDArray[Any]:
    """`values` with room for `rows` rows, the first `used` kept (np.resize would fill the rest)."""
    out = np.empty((rows, *values.shape[1:]), dtype=values.dtype)
    out[:used] = values[:used]
    return out


def _fast(path: Path, header: list[str]) -> Columns | None:
    """The columns by pyarrow, or None if it is not installed or refuses the file.

    The file is parsed piece by piece into arrays sized from the first piece's rows per byte,
    so that only one piece is held twice (pyarrow's own reader would hold the whole file).
    """
    try:
        import pyarrow as pa
        from pyarrow import csv as pa_csv
    except ImportError:
        return None
    if len(set(header)) != len(header):
        return None  # duplicate names: the first of each counts, as in numpy's reading
    read_options = pa_csv.ReadOptions(column_names=header, block_size=MAX_LINE_BYTES)
    convert_options = pa_csv.ConvertOptions(
        include_columns=list(COLUMNS),
        column_types={"t_s": pa.float64(), **dict.fromkeys(COLUMNS[1:], pa.float32())},
        null_values=[],  # "nan", "NA" and empty fields: refused later, by name
    )
    size = path.stat().st_size
    t, a = np.empty(0), np.empty((0, 3), dtype=np.float32)
    at = 0
    try:
        for piece in _pieces(path):
            table = pa_csv.read_csv(
                pa.py_buffer(piece),
                read_options=read_options,
                convert_options=convert_options,
                memory_pool=arrow_pool(),
            )
            n = table.num_rows
            if at + n > t.size:  # the first piece, or a guess that fell short
                rows = max(2 * t.size, int(1.02 * n * size / len(piece)) + 1024)
                t, a = _grown(t, rows, at), _grown(a, rows, at)
            for k, name in enumerate(COLUMNS):
                column = table.column(name)
                if column.null_count:
                    return None
                values = numpy_column(column, np.float64 if k == 0 else np.float32)
                if k == 0:
                    t[at : at + n] = values
                else:
                    a[at : at + n, k - 1] = values
            at += n
    except (pa.ArrowException, _LongLine):
        return None
    return t[:at], a[:at]  # views: the few spare rows are not worth a copy


def _careful(path: Path, header: list[str]) -> Columns:
    """The columns by numpy's reader, whose errors name the row and the column."""
    cols = [header.index(c) for c in COLUMNS]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "input contained no data": checked later
            data = np.loadtxt(
                path,
                delimiter=",",
                skiprows=1,
                usecols=cols,
                dtype=np.float64,
                ndmin=2,
                encoding="utf-8",
            )
        return data[:, 0].copy(), data[:, 1:4].astype(np.float32)
    except UnicodeDecodeError:
        raise TraceError(f"{path} line {_first_undecodable(path)}: is not UTF-8 text") from None
    except ValueError as err:
        short = _NUMPY_SHORT.search(str(err))
        if short is not None:
            line = line_of_row(path, int(short[1]) - 1)  # this one counts from 1
            raise TraceError(
                f"{path} line {line}: {short[2]} columns where the header has {len(header)}"
            ) from None
        match = _NUMPY_ROW.search(str(err))
        if match is None:
            raise TraceError(f"{path}: {str(err).splitlines()[0]}") from None
        row, col = int(match[1]), int(match[2])  # data row from 0, file column from 1
        bad = str(err).split("'")[1] if "'" in str(err) else "?"
        name = header[col - 1] if 0 < col <= len(header) else f"column {col}"
        line = line_of_row(path, row)
        raise TraceError(f"{path} line {line}: {name} is not a number: {bad!r}") from None


def _first_undecodable(path: Path) -> int:
    with path.open("rb") as f:
        for number, line in enumerate(f, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0
